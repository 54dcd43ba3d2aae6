"""Repositories, checkouts and releases are tenant input: each attack here has a defence that a test shows."""

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from appcontrol.applications.models import Repository
from appcontrol.core.ids import encode_id
from appcontrol.core.sandbox import private_directory
from appcontrol.deployments import git
from appcontrol.runtime.caddy import configuration
from tests.conftest import api_url
from tests.deployments.helpers import deploy

ATTACKS = {
    "git's ext transport runs a command": "ext::sh -c touch% /tmp/appcontrol-pwned",
    "a member reads this host's files": "file:///etc",
    "a local path": "/var/lib/appcontrol",
    "an option for git": "--upload-pack=touch /tmp/appcontrol-pwned",
    "credentials shown as dsn": "https://user:secret@git.example.com/repo.git",
    "a control character": "https://git.example.com/repo\n.git",
    "no host": "https:///repo.git",
}


@pytest.mark.parametrize("case", sorted(ATTACKS))
def test_a_repository_url_that_would_attack_the_host_is_refused(world, case):
    response = world.client("member").post(
        api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), "url": ATTACKS[case]}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json(), response.json()
    assert not Repository.objects.exists()


def test_git_itself_refuses_other_transports_even_if_a_url_got_past_validation(world):
    marker = Path(tempfile.gettempdir()) / "appcontrol-ext-transport-ran"
    marker.unlink(missing_ok=True)
    repository = Repository.objects.create(organisation=world.acme, url=f"ext::sh -c touch% {marker}")
    with pytest.raises(git.GitError, match="Cannot clone"):
        git.clone(repository)
    assert not marker.exists()


@pytest.mark.parametrize("target", ["/etc/shadow", "../../../../etc", "inside/../../outside"])
def test_a_checkout_with_a_link_leading_out_is_refused(world, demo_repository, target):
    (demo_repository.path / ".dockerignore").symlink_to(target)  # the build would read it as this process
    demo_repository.commit("a link leaving the tree")
    repository = Repository.objects.create(organisation=world.acme, url=demo_repository.url)
    git.clone(repository)
    commit = git.resolve(repository, "main")
    with private_directory() as checkout, pytest.raises(git.GitError, match="link leading out of the repository"):
        git.export(repository, commit, checkout)


def test_unpacking_a_checkout_writes_nowhere_but_its_directory(tmp_path):
    """A crafted archive (a link to a directory outside, then a file through it) cannot write outside: tar
    runs confined, with only the checkout writable."""
    outside = Path(tempfile.mkdtemp(prefix="appcontrol-outside-"))
    outside.chmod(0o755)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        link = tarfile.TarInfo("escape")
        link.type, link.linkname = tarfile.SYMTYPE, str(outside)
        tar.addfile(link)
        payload = tarfile.TarInfo("escape/pwned")
        payload.size = 5
        tar.addfile(payload, io.BytesIO(b"owned"))
    archive.seek(0)
    with private_directory() as checkout:
        try:
            git.extract(archive, checkout)
        except git.GitError:
            pass  # tar may refuse; what matters is where nothing was written
    assert list(outside.iterdir()) == []
    outside.rmdir()


def test_the_router_s_admin_api_is_on_a_unix_socket_never_on_a_port_releases_share():
    config = configuration("127.0.0.1:8080", "/run/appcontrol/admin.sock", [])
    assert config["admin"]["listen"] == "unix//run/appcontrol/admin.sock"


def test_a_release_runs_without_capabilities_host_files_or_operator_settings(
    world, run_jobs, engine, deployable, settings, monkeypatch
):
    monkeypatch.setenv("APPCONTROL_SECRET_KEY", "the-operator-s-own-secret")
    settings.APPCONTROL_RELEASE_MEMORY_MB = 256
    deployment = deploy(world, run_jobs, world.apps["acme"].environments.get(slug="test"))
    assert deployment["success"] is True, deployment["errors"]
    (running,) = engine.list()
    attributes = engine.client.containers.get(running.name).attrs
    host = attributes["HostConfig"]
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == 256 * 1024**2 and host["PidsLimit"] > 0
    assert not host["Privileged"] and attributes["Mounts"] == [] and not host.get("Binds")
    names = {entry.partition("=")[0] for entry in attributes["Config"]["Env"]}
    assert not {name for name in names if name.startswith(("APPCONTROL_", "DOCKER_", "DATABASE_URL_"))}
    assert "the-operator-s-own-secret" not in " ".join(attributes["Config"]["Env"])
    probe = subprocess.run(
        ["docker", "-H", settings.APPCONTROL_DOCKER_HOST, "exec", running.name, "cat", "/proc/self/status"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "CapEff:\t0000000000000000" in probe and "NoNewPrivs:\t1" in probe


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://[x/repo.git", "Not a valid URL"),
        ("http://127.0.0.1:8000/repo.git", "own network"),
        ("https://localhost/repo.git", "own network"),
        ("git://10.0.0.7/repo.git", "own network"),
        ("http://[::1]/repo.git", "own network"),
        ("https://169.254.169.254/latest/meta-data", "own network"),
        # Forms the resolver reads as loopback or private, though no address parser does.
        ("https://127.1/repo.git", "own network"),
        ("http://2130706433:2019/config", "own network"),
        ("https://0x7f000001/repo.git", "own network"),
        ("ssh://git@0177.0.0.1/repo.git", "own network"),
        ("git@0:repo.git", "own network"),
        ("git@10.1:repo.git", "own network"),
    ],
)
def test_a_member_cannot_make_the_server_fetch_from_its_own_network(world, url, why):
    response = world.client("member").post(
        api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), "url": url}, format="json"
    )
    assert response.status_code == 400 and why in response.json()["url"][0], response.json()


@pytest.mark.parametrize("domain", ["victim-live.localhost", "A.B.LOCALHOST"])
def test_nobody_claims_a_host_name_of_the_router_s_own(world, domain):
    test = world.apps["acme"].environments.get(slug="test")
    response = world.client("member").post(
        api_url("api:domain-list"), {"environment": encode_id(test.pk), "domain": domain}, format="json"
    )
    assert response.status_code == 400 and "the server's own" in response.json()["domain"][0]


def test_a_default_host_two_environments_would_share_stays_with_the_first(world):
    from appcontrol.applications.models import Environment
    from appcontrol.applications.services import application_create
    from appcontrol.deployments.models import Deployment, Release
    from appcontrol.deployments.routing import routes

    first = application_create(organisation=world.other, slug="shop", name="Shop")
    early = Environment.objects.create(application=first, slug="front-live")  # shop-front-live.localhost
    later_app = application_create(organisation=world.acme, slug="shop-front", name="Squatter")
    late = later_app.environments.get(slug="live")  # shop-front-live.localhost as well
    late.created_at = early.created_at.replace(year=early.created_at.year + 1)
    late.save()
    for environment, port in [(late, 20001), (early, 20002)]:
        deployment = Deployment.objects.create(environment=environment, application=environment.application, port=port)
        Release.objects.create(environment=environment, deployment=deployment)
    found = routes()
    assert [route.hosts for route in found] == [("shop-front-live.localhost",)]
    assert found[0].upstream_file.endswith(encode_id(early.pk))


def test_a_build_reaches_neither_this_host_s_loopback_nor_the_network(
    world, run_jobs, engine, deployable, demo_repository, settings
):
    router_port = settings.APPCONTROL_ROUTER_BIND.rpartition(":")[2]
    probe = f"import socket; socket.create_connection(('127.0.0.1', {router_port}), timeout=3)"
    demo_repository.commit(
        "a build that calls home", {"Dockerfile": f'FROM appcontrol/base:bookworm\nRUN python3 -c "{probe}"\n'}
    )
    deployment = deploy(world, run_jobs, world.apps["acme"].environments.get(slug="test"))
    assert deployment["success"] is False and "The build failed" in deployment["errors"]


def test_a_hostile_dockerignore_does_not_hold_up_the_worker(world, run_jobs, engine, deployable, demo_repository):
    """docker-py would turn these patterns into backtracking regular expressions in the worker; the context
    is sent as a tar made by a confined tar instead, and the engine matches patterns in linear time."""
    deep = demo_repository.path / "/".join(["d"] * 30)
    deep.mkdir(parents=True)
    (deep / "file").write_text("x")
    demo_repository.commit("patterns", {".dockerignore": "**/" * 12 + "nothing\n"})
    deployment = deploy(world, run_jobs, world.apps["acme"].environments.get(slug="test"))
    assert deployment["success"] is True, deployment["errors"]
    image = world.client("member").get(api_url("api:build-detail", uuid=deployment["build"])).json()["image"]
    assert image.endswith(deployment["build"])  # an unguessable tag: no other tenant builds FROM it


def test_a_repository_is_checked_again_before_each_fetch(world, run_jobs):
    """A member's repository whose name resolves into this server's network later (or was stored before the
    check knew a form) is not fetched, cloned or checked."""
    from appcontrol.applications.models import Repository

    repository = Repository.objects.create(organisation=world.acme, url="https://127.1/repo.git")
    for attempt in (git.clone, git.fetch, git.check):
        with pytest.raises(git.GitError, match="own network") as refused:
            attempt(repository)
        assert refused.value.code == "unreachable"
    response = world.client("member").post(api_url("api:repository-check", uuid=repository.pk), {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "unreachable"


def test_members_send_passwords_over_https_only(world):
    body = {"organisation": encode_id(world.acme.pk), "url": "http://git.example.com/r.git", "username": "u"}
    response = world.client("member").post(api_url("api:repository-list"), {**body, "password": "p"}, format="json")
    assert response.status_code == 400 and "https://" in response.json()["password"][0]


def test_new_applications_count_against_the_environment_limit(world, settings):
    """Each application brings two environments: creating applications is no way round the limit."""
    settings.APPCONTROL_ENVIRONMENT_LIMIT = 5  # acme has 2
    body = {"organisation": encode_id(world.acme.pk)}
    first = world.client("member").post(api_url("api:application-list"), {**body, "slug": "one", "name": "1"})
    assert first.status_code == 201
    second = world.client("member").post(api_url("api:application-list"), {**body, "slug": "two", "name": "2"})
    assert second.status_code == 400 and second.json() == {"non_field_errors": ["Can not add another Environment."]}
