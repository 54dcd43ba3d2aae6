"""Deployments through a real `appcontrol serve` (worker, router, reconciler) with a real Docker Engine,
driven by the official divio-cli, unchanged: deploy, deployments list/get/get-var, deploy-log, logs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from appcontrol.runtime.docker_engine import DockerDriver
from tests.deployments.engine import require_engine

from .conftest import divio_cli, get, running_server, wait_for


@pytest.fixture(scope="module")
def deploy_server(tmp_path_factory):
    host = require_engine()
    # Outside pytest's private temporary directory: without bubblewrap, confined git runs as an unprivileged
    # uid that must reach the demo's repository in the data dir.
    data = Path(tempfile.mkdtemp(prefix="appcontrol-deploy-"))
    data.chmod(0o755)
    with running_server(
        data, APPCONTROL_DOCKER_HOST=host, APPCONTROL_DRAIN_SECONDS="1", APPCONTROL_HEALTH_CHECK_ATTEMPTS="30"
    ) as server:
        yield server
        engine = DockerDriver(host)
        for running in engine.list():
            engine.stop(running.name, grace_seconds=0)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def divio(deploy_server, tmp_path_factory):
    return divio_cli(deploy_server, tmp_path_factory)


def environment(server, slug):
    _, _, apps = get(f"{server['url']}/apps/v3/applications/?slug=example-application", server["token"])
    application = apps["results"][0]["uuid"]
    _, _, envs = get(f"{server['url']}/apps/v3/environments/?application={application}&slug={slug}", server["token"])
    return envs["results"][0]


def through_router(server, slug: str, path: str = "/") -> str:
    router = server["env"]["APPCONTROL_ROUTER_BIND"]
    request = urllib.request.Request(
        f"http://{router}{path}", headers={"Host": f"example-application-{slug}.localhost"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.read().decode()


def test_divio_cli_deploys_and_the_app_serves_through_the_router(deploy_server, divio):
    divio["run"]("app", "deploy", "test", timeout=300)  # exit 0: divio-cli saw success
    assert through_router(deploy_server, "test").startswith("version=1 stage=test")

    env = environment(deploy_server, "test")
    deployment = env["last_finished_deployment"]["uuid"]
    listed = divio["run"]("app", "deployments", "list", "-e", "test")
    assert deployment in listed
    shown = divio["run"]("app", "deployments", "get", deployment)
    assert "STAGE" in shown and "SECRET_KEY" in shown
    assert "| value | test  |" in divio["run"]("app", "deployments", "get-var", deployment, "STAGE")
    log = divio["run"]("app", "deploy-log", "test")
    assert "release: migrating the test database" in log and "Done: the new release serves." in log


def test_divio_cli_app_logs_shows_what_the_app_printed(deploy_server, divio):
    divio["run"]("app", "deploy", "test", timeout=300)
    through_router(deploy_server, "test")
    deadline = time.monotonic() + 30  # the reconciler collects every few seconds
    while True:
        output = divio["run"]("app", "logs", "test")
        if "GET / 200" in output or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert "GET / 200" in output


def test_divio_cli_app_logs_tail_follows_new_lines(deploy_server, divio):
    """`app logs --tail` follows `next` forever: a line the app prints while it runs shows up."""
    threading.Timer(3, through_router, args=(deploy_server, "test", "/while-tailing")).start()
    try:
        divio["run"]("app", "logs", "test", "--tail", timeout=20)
        raise AssertionError("--tail returned by itself")
    except subprocess.TimeoutExpired as stopped:
        output = stopped.stdout if isinstance(stopped.stdout, str) else (stopped.stdout or b"").decode()
    assert "GET /while-tailing 200" in output, output


def test_a_failed_deployment_exits_1(deploy_server, divio):
    env = environment(deploy_server, "live")
    url = f"{deploy_server['url']}/apps/v3/environments/{env['uuid']}/"
    assert get(url, deploy_server["token"], "PATCH", {"branch": "gone"})[0] == 200
    result = divio["run"]("app", "deploy", "live", check=False, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    _, _, deployments = get(
        f"{deploy_server['url']}/apps/v3/deployments/?environment={env['uuid']}", deploy_server["token"]
    )
    assert "'gone' does not exist" in deployments["results"][0]["errors"]
    assert json.dumps(deployments["results"][0]["success"]) == "false"
    assert get(url, deploy_server["token"], "PATCH", {"branch": "main"})[0] == 200


def test_divio_cli_creates_an_application_from_a_template_and_deploys_it(deploy_server, divio, tmp_path):
    """`app create` non-interactive, as its wizard runs: validators, organisation, plan group, region, the
    template and its services, then `--deploy` of test; the new application serves the template's code."""
    url, token = deploy_server["url"], deploy_server["token"]
    organisation = get(f"{url}/iam/v3/organisations/", token)[2]["results"][0]["uuid"]
    plan_group = get(f"{url}/billing/v3/application-plan-groups/?organisation={organisation}", token)[2]
    plan_group = plan_group["results"][0]["uuid"]
    region = get(f"{url}/billing/v3/application-plan-groups/{plan_group}/", token)[2]["regions"][0]
    template = get(f"{url}/apps/v3/app-templates/", token)[2]["results"][0]["url"]
    args = ["-n", "Created app", "-s", "created-app", "-o", organisation, "-p", plan_group, "-r", region]
    output = divio["run"](
        "app", "create", "-I", *args, "-t", template, "--deploy", "--json", remote_id=False, timeout=120
    )
    assert "created-app" in output
    application = get(f"{url}/apps/v3/applications/?slug=created-app", token)[2]["results"][0]
    assert application["repository"] is None and application["git_url"].endswith("/git/demo/created-app.git")
    test = get(f"{url}/apps/v3/environments/?application={application['uuid']}&slug=test", token)[2]["results"][0]
    instances = get(f"{url}/apps/v3/service-instances/?environment={test['uuid']}", token)[2]["results"]
    assert [(instance["type"], instance["prefix"]) for instance in instances] == [("DATABASE", "DEFAULT")]
    deployments = f"{url}/apps/v3/deployments/?environment={test['uuid']}"
    ended = wait_for(lambda: [d for d in get(deployments, token)[2]["results"] if d["ended_at"]], timeout=300)
    assert ended[0]["success"] is True, ended[0]
    router = deploy_server["env"]["APPCONTROL_ROUTER_BIND"]
    request = urllib.request.Request(f"http://{router}/", headers={"Host": "created-app-test.localhost"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.read().decode().startswith("version=1 stage=test")

    project = tmp_path / "configured"
    project.mkdir()
    divio["run"]("app", "configure", cwd=project, remote_id=False, input="y\ncreated-app\n")
    written = json.loads((project / ".divio" / "config.json").read_text())
    assert written["application_uuid"] == application["uuid"] and written["slug"] == "created-app"


def test_divio_cli_legacy_remote_id(deploy_server, divio):
    """A numeric `--remote-id` (older project files) is resolved through /legacy/v3/applications/?id=."""
    listed = get(f"{deploy_server['url']}/legacy/v3/applications/?id=1", deploy_server["token"])[2]
    assert listed["count"] == 1
    result = divio["run"]("app", "deployments", "list", "--remote-id", "1", remote_id=False, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def appctl(server, *args):
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "COLUMNS": "200", "APPCTL_TOKEN": server["token"]}
    return subprocess.run(
        [sys.executable, "-m", "appctl", "--url", server["url"], *args], env=env, capture_output=True, text=True
    )


APP = ["-a", "example-application"]


def test_appctl_deploys_with_its_log_then_rolls_back(deploy_server):
    first = appctl(deploy_server, "deploy", *APP, "-e", "live", "--logs")
    assert first.returncode == 0, first.stderr
    assert "release: migrating the live database" in first.stdout and "Deployed:" in first.stderr
    assert through_router(deploy_server, "live").startswith("version=1 stage=live")

    repository = deploy_server["data_dir"] / "demo-webapp"
    (repository / "VERSION").write_text("2\n")
    subprocess.run(
        ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "v2"],
        check=True,
    )
    second = appctl(deploy_server, "deploy", *APP, "-e", "live", "--build-mode", "FORCE")
    assert second.returncode == 0, second.stderr
    assert through_router(deploy_server, "live").startswith("version=2 ")

    rollback = appctl(deploy_server, "deployments", "rollback", *APP, "-e", "live")
    assert rollback.returncode == 0, rollback.stderr
    assert through_router(deploy_server, "live").startswith("version=1 ")

    listed = appctl(deploy_server, "--json", "deployments", "list", *APP, "-e", "live")
    deployments = json.loads(listed.stdout)
    assert [deployment["success"] for deployment in deployments[:3]] == [True, True, True]
    builds = json.loads(appctl(deploy_server, "--json", "builds", "list", *APP).stdout)
    assert len(builds) >= 2
    build_log = appctl(deploy_server, "builds", "logs", builds[0]["uuid"])
    assert build_log.returncode == 0 and "COPY" in build_log.stdout


def test_appctl_logs_prints_the_environment_s_lines(deploy_server):
    assert appctl(deploy_server, "deploy", *APP, "-e", "test").returncode == 0
    through_router(deploy_server, "test")
    deadline = time.monotonic() + 30
    while True:
        result = appctl(deploy_server, "logs", *APP, "-e", "test", "--since", "10m")
        if "web: GET / 200" in result.stdout or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert result.returncode == 0, result.stderr
    assert "web: GET / 200" in result.stdout and "release: release: migrating" in result.stdout


def test_appctl_adopt_without_a_build_exits_1_with_the_reason(deploy_server):
    subprocess.run(
        ["git", "-C", str(deploy_server["data_dir"] / "demo-webapp"), "-c", "user.name=t", "-c",
         "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "new commit, never built"],
        check=True,
    )  # fmt: skip
    result = appctl(deploy_server, "deploy", *APP, "-e", "test", "--build-mode", "ADOPT")
    assert result.returncode == 1
    assert "ADOPT" in result.stderr


def test_a_worker_killed_mid_deployment_ends_it_failed_and_the_old_release_serves(deploy_server):
    url, token = deploy_server["url"], deploy_server["token"]
    before = through_router(deploy_server, "test")
    application = environment(deploy_server, "test")["application"]
    slow = [{"label": "migrate", "command": "sleep 120"}]
    assert get(f"{url}/apps/v3/applications/{application}/", token, "PATCH", {"release_commands": slow})[0] == 200
    status, _, created = get(
        f"{url}/apps/v3/deployments/", token, "POST", {"environment": environment(deploy_server, "test")["uuid"]}
    )
    assert status == 201
    detail = f"{url}/apps/v3/deployments/{created['uuid']}/"
    wait_for(lambda: get(detail, token)[2]["status"] == "releasing", timeout=120, interval=0.2)
    worker = subprocess.run(
        ["pgrep", "-P", str(deploy_server["process"].pid), "-f", "db_worker"], capture_output=True, text=True
    )
    os.kill(int(worker.stdout.split()[0]), signal.SIGKILL)

    ended = wait_for(lambda: (body := get(detail, token)[2])["ended_at"] and body, timeout=60)
    assert ended["success"] is False and "worker stopped" in ended["errors"]
    assert through_router(deploy_server, "test") == before  # nothing was switched
    engine = DockerDriver(deploy_server["env"]["APPCONTROL_DOCKER_HOST"])
    # The release command the dead worker left running goes with the reconciler's next round.
    wait_for(lambda: not [p for p in engine.list() if p.labels.get("org.appcontrol.deployment") == created["uuid"]])
    demo = [{"label": "migrate", "command": "python3 /app/release.py"}]
    assert get(f"{url}/apps/v3/applications/{application}/", token, "PATCH", {"release_commands": demo})[0] == 200
