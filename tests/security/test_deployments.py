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
