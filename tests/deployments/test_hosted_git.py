"""Push to deploy, end to end: a real `appcontrol serve` (gunicorn, worker), the real git client, and for
deployments a real Docker Engine and router."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.deployments.engine import require_engine
from tests.deployments.git_client import commit, git, head, with_credentials, work_tree
from tests.e2e.conftest import get, running_server, wait_for

WEBAPP = Path(__file__).resolve().parents[2] / "src" / "appcontrol" / "demo" / "webapp"


@contextlib.contextmanager
def hosted_server(**env):
    # Outside pytest's private temporary directory: without bubblewrap, confined git runs as an unprivileged
    # uid that must reach the hosted repositories in the data dir.
    data = Path(tempfile.mkdtemp(prefix="appcontrol-hosted-"))
    data.chmod(0o755)
    try:
        with running_server(data, **env) as server:
            yield server
    finally:
        shutil.rmtree(data, ignore_errors=True)


def application_create(server, slug: str) -> dict:
    _, _, organisations = get(f"{server['url']}/iam/v3/organisations/", server["token"])
    body = {"name": slug, "slug": slug, "organisation": organisations["results"][0]["uuid"]}
    status, _, application = get(f"{server['url']}/apps/v3/applications/", server["token"], "POST", body)
    assert status == 201, application
    return application


def environment_of(server, application: dict, slug: str) -> dict:
    url = f"{server['url']}/apps/v3/environments/?application={application['uuid']}&slug={slug}"
    return get(url, server["token"])[2]["results"][0]


def deployments_of(server, environment: dict) -> list[dict]:
    return get(f"{server['url']}/apps/v3/deployments/?environment={environment['uuid']}", server["token"])[2]["results"]


def files_of_webapp(version: int) -> dict[str, bytes]:
    files = {path.name: path.read_bytes() for path in WEBAPP.iterdir() if path.is_file()}
    files["VERSION"] = f"{version}\n".encode()
    return files


def appctl(server, *args):
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "COLUMNS": "200", "APPCTL_TOKEN": server["token"]}
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")  # this checkout's appctl
    return subprocess.run(
        [sys.executable, "-m", "appctl", "--url", server["url"], *args], env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def server():
    with hosted_server() as running:
        yield running


def test_push_clone_large_push_and_force_push(server, tmp_path):
    application = application_create(server, "pushed")
    assert application["git_url"] == f"{server['url']}/git/demo/pushed.git"
    shown = get(f"{server['url']}/apps/v3/applications/{application['uuid']}/", server["token"])[2]
    assert shown["git_url"] == application["git_url"]
    url = with_credentials(application["git_url"], server["token"])

    tree = work_tree(tmp_path / "work", {"README": "one\n"})
    pushed = git("push", url, "main", cwd=tree)
    # Environments follow main without auto_deploy: the pusher is told how to deploy, and nothing deploys.
    assert "remote: test: branch main is at" in pushed.stderr and "auto_deploy is off" in pushed.stderr
    assert deployments_of(server, environment_of(server, application, "test")) == []

    # Larger than git's http.postBuffer (1 MiB): sent with Transfer-Encoding: chunked, through gunicorn.
    commit(tree, {"large.bin": os.urandom(3 * 1024 * 1024)})
    traced = git("push", url, "main", cwd=tree, env={"GIT_TRACE_CURL": "1", "GIT_TRACE_CURL_NO_DATA": "1"})
    assert "Transfer-Encoding: chunked" in traced.stderr
    large = head(tree)

    clone = tmp_path / "clone"
    git("clone", "-q", url, str(clone))
    assert head(clone) == large
    assert (clone / "large.bin").stat().st_size == 3 * 1024 * 1024

    # A rewritten branch is accepted (as Heroku accepts it): force pushes deploy like any other.
    git("reset", "-q", "--hard", "HEAD~1", cwd=tree)
    commit(tree, {"README": "rewritten\n"})
    assert git("push", url, "main", cwd=tree, check=False).returncode != 0  # not without --force
    forced = git("push", "--force", url, "main", cwd=tree)
    assert "forced update" in forced.stderr
    assert git("ls-remote", url, "refs/heads/main", cwd=tree).stdout.split()[0] == head(tree)

    # Deleting a branch is refused: an environment could be left following nothing.
    deleted = git("push", url, ":main", cwd=tree, check=False)
    assert deleted.returncode != 0 and "deletion prohibited" in deleted.stderr


def test_auto_deploy_starts_a_deployment_of_the_pushed_branch(server, tmp_path):
    application = application_create(server, "auto")
    shown = appctl(server, "apps", "show", "auto")
    assert shown.returncode == 0 and application["git_url"] in shown.stdout, shown.stderr
    updated = appctl(server, "--json", "envs", "update", "-a", "auto", "-e", "live", "--auto-deploy")
    assert updated.returncode == 0 and json.loads(updated.stdout)["auto_deploy"] is True, updated.stderr
    live = environment_of(server, application, "live")
    assert live["auto_deploy"] is True
    tree = work_tree(tmp_path / "work", {"README": "one\n"})
    pushed = git("push", with_credentials(application["git_url"], server["token"]), "main", cwd=tree)
    assert "remote: live: deploying main at" in pushed.stderr, pushed.stderr
    deployments = deployments_of(server, live)
    assert len(deployments) == 1 and deployments[0]["environment"] == live["uuid"]
    assert deployments_of(server, environment_of(server, application, "test")) == []
    listed = appctl(server, "deployments", "list", "-a", "auto", "-e", "live")
    assert deployments[0]["uuid"] in listed.stdout, listed.stderr


def test_the_token_is_not_in_the_servers_log(server, tmp_path):
    application = application_create(server, "logged")
    tree = work_tree(tmp_path / "work", {"README": "one\n"})
    # As the user name (`https://<token>@host/…`), and as the password.
    git("push", with_credentials(application["git_url"], "", user=server["token"]), "main", cwd=tree)
    commit(tree, {"README": "two\n"})
    git("push", with_credentials(application["git_url"], server["token"]), "main", cwd=tree)
    log = server["log"].read_text()
    assert "git-receive-pack" in log
    assert server["token"] not in log and server["token"][4:] not in log


@pytest.fixture(scope="module")
def deploy_server():
    host = require_engine()
    with hosted_server(
        APPCONTROL_DOCKER_HOST=host, APPCONTROL_DRAIN_SECONDS="1", APPCONTROL_HEALTH_CHECK_ATTEMPTS="30"
    ) as server:
        yield server
        from appcontrol.runtime.docker_engine import DockerDriver

        engine = DockerDriver(host)
        for running in engine.list():
            engine.stop(running.name, grace_seconds=0)


def through_router(server, host: str) -> str:
    router = server["env"]["APPCONTROL_ROUTER_BIND"]
    request = urllib.request.Request(f"http://{router}/", headers={"Host": host})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.read().decode()


def ended(server, environment: dict, count: int) -> dict:
    def done():
        listed = deployments_of(server, environment)
        return len(listed) >= count and listed[0]["ended_at"] and listed[0]

    return wait_for(done, timeout=300, interval=1)


def test_a_push_deploys_and_the_environment_serves_the_pushed_commit(deploy_server, tmp_path):
    server = deploy_server
    application = application_create(server, "pushdeploy")
    test = environment_of(server, application, "test")
    get(f"{server['url']}/apps/v3/environments/{test['uuid']}/", server["token"], "PATCH", {"auto_deploy": True})
    url = with_credentials(application["git_url"], server["token"])

    tree = work_tree(tmp_path / "work", files_of_webapp(1))
    git("push", url, "main", cwd=tree)
    first = ended(server, test, 1)
    assert first["success"] is True, first["errors"]
    assert first["commit"] == head(tree)
    assert through_router(server, "pushdeploy-test.localhost").startswith("version=1 stage=test")

    commit(tree, {"VERSION": "2\n"})
    git("push", url, "main", cwd=tree)
    second = ended(server, test, 2)
    assert second["success"] is True and second["commit"] == head(tree)
    assert through_router(server, "pushdeploy-test.localhost").startswith("version=2 ")

    # An environment whose branch was never pushed fails with the usual readable reason and a hint.
    live = environment_of(server, application, "live")
    get(f"{server['url']}/apps/v3/environments/{live['uuid']}/", server["token"], "PATCH", {"branch": "production"})
    status, _, _ = get(f"{server['url']}/apps/v3/deployments/", server["token"], "POST", {"environment": live["uuid"]})
    assert status == 201
    failed = ended(server, live, 1)
    assert failed["success"] is False
    assert "The branch 'production' does not exist" in failed["errors"] and "push it" in failed["errors"]


def test_a_client_that_stops_sending_is_cut_off(tmp_path):
    """A body announced and never sent must not hold a server thread (and a push the repository's lock)."""
    import base64
    import socket
    import time

    with hosted_server(APPCONTROL_GIT_IDLE_SECONDS="2") as idle_server:
        application = application_create(idle_server, "stalled")
        tree = work_tree(tmp_path / "work", {"README": "one\n"})
        url = with_credentials(application["git_url"], idle_server["token"])
        git("push", "-q", url, "main", cwd=tree)
        port = int(idle_server["url"].rsplit(":", 1)[1])
        credentials = base64.b64encode(f"git:{idle_server['token']}".encode()).decode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as stalled:
            stalled.sendall(
                b"POST /git/demo/stalled.git/git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-git-upload-pack-request\r\nContent-Length: 1000000\r\n"
                + f"Authorization: Basic {credentials}\r\n\r\n".encode()
            )
            started = time.monotonic()
            answer = stalled.recv(4096)
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1") and waited < 30, (answer[:200], waited)
        # The server still answers, and the repository is not locked.
        commit(tree, {"README": "two\n"})
        git("push", "-q", url, "main", cwd=tree)
