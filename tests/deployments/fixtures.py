"""Fixtures of the deployment tests: a Docker Engine, a Caddy, the demo application in a git repository."""

import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from appcontrol.applications.models import Environment
from appcontrol.deployments import services
from appcontrol.runtime.caddy import CaddyAdmin, bootstrap_configuration, caddy_binary, caddy_environment
from appcontrol.runtime.docker_engine import DockerDriver
from appcontrol.runtime.specs import RuntimeFailure
from appcontrol.runtime.swarm_engine import SwarmDriver

from .engine import require_engine

WEBAPP = Path(__file__).resolve().parents[2] / "src" / "appcontrol" / "demo" / "webapp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def caddy():
    """A real Caddy with its admin API on a unix socket; the tests' settings point the router at it."""
    require_engine()
    directory = Path(tempfile.mkdtemp(prefix="appcontrol-caddy-"))
    admin_socket = directory / "admin.sock"
    boot = directory / "boot.json"
    boot.write_text(json.dumps(bootstrap_configuration(str(admin_socket))))
    log = open(directory / "caddy.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [caddy_binary(), "run", "--config", str(boot)], stdout=log, stderr=log, env=caddy_environment(directory)
    )
    for _ in range(100):
        try:
            CaddyAdmin(str(admin_socket)).current()
            break
        except RuntimeFailure:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"Caddy did not start: {(directory / 'caddy.log').read_text()}")
    yield admin_socket
    process.terminate()
    process.wait(timeout=10)
    log.close()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def engine(request, settings, caddy):
    """Deployments on the test engine (the `docker` driver, or `swarm` with an indirect parameter on a
    single-node swarm), routed through Caddy on a port of their own; everything they started is removed
    afterwards."""
    host = require_engine()
    kind = getattr(request, "param", "docker")
    settings.APPCONTROL_DOCKER_HOST = host
    settings.APPCONTROL_RUNTIME_DRIVER = kind
    settings.APPCONTROL_ROUTER = "external"
    settings.APPCONTROL_ROUTER_ADMIN_SOCKET = caddy
    settings.APPCONTROL_ROUTER_DIR = settings.DATA_DIR / "router" / uuid.uuid4().hex
    settings.APPCONTROL_ROUTER_BIND = f"127.0.0.1:{free_port()}"
    settings.APPCONTROL_DRAIN_SECONDS = 1
    settings.APPCONTROL_HEALTH_CHECK_ATTEMPTS = 20
    # Jobs run inline here; a heartbeat thread writing beside them would lock SQLite's shared test database.
    settings.APPCONTROL_JOB_HEARTBEAT_SECONDS = 3600
    driver = DockerDriver(host)
    if kind == "swarm":
        swarm_ensure(driver)
        driver = SwarmDriver(host)
    yield driver
    for running in driver.list():
        driver.stop(running.name, grace_seconds=0)


def swarm_ensure(driver: DockerDriver) -> None:
    """Make the test engine a single-node swarm (once; it stays one, plain containers work on as before)."""
    if driver.client.info().get("Swarm", {}).get("LocalNodeState") != "active":
        driver.client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")


@dataclass
class GitRepository:
    """A local git repository holding the demo web application, for `file://` repositories."""

    path: Path
    versions: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, message: str, files: dict[str, str] | None = None, branch: str = "main") -> str:
        for name, content in (files or {}).items():
            (self.path / name).write_text(content)
        self.git("add", "-A")
        self.git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def version(self, number: int) -> str:
        return self.commit(f"version {number}", {"VERSION": f"{number}\n"})


@pytest.fixture
def demo_repository():
    # Outside pytest's private tmp: the sandbox's unprivileged uid must be able to read it.
    path = Path(tempfile.mkdtemp(prefix="appcontrol-repo-"))
    path.chmod(0o755)
    shutil.copytree(WEBAPP, path, dirs_exist_ok=True)
    repository = GitRepository(path)
    repository.git("init", "-q", "-b", "main")
    repository.version(1)
    for child in path.rglob("*"):
        child.chmod(0o755 if child.is_dir() else 0o644)
    yield repository
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def deployable(world, run_jobs, demo_repository):
    """The acme application pointed at the demo repository (cloned), with the demo's release command."""
    application = world.apps["acme"]
    with run_jobs():
        repository = services.repository_create(organisation=world.acme, url=demo_repository.url, operator=True)
    repository.refresh_from_db()
    assert repository.state == "CLONED", repository.reason
    application.repository = repository
    application.release_commands = [{"label": "migrate", "command": "python3 /app/release.py"}]
    application.save()
    return application


def through_router(settings, environment: Environment, path: str = "/") -> tuple[int, str]:
    """GET `path` of an environment through the router, by its host name."""
    from appcontrol.applications.hosts import default_host

    request = urllib.request.Request(
        f"http://{settings.APPCONTROL_ROUTER_BIND}{path}", headers={"Host": default_host(environment)}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class RequestLoop:
    """A client that requests an environment through the router over and over while a deployment runs."""

    def __init__(self, settings, environment):
        self.settings, self.environment = settings, environment
        self.answers: list[str] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self.stop.is_set():
            try:
                status, body = through_router(self.settings, self.environment)
                (self.answers if status == 200 else self.failures).append(body if status == 200 else str(status))
            except OSError as error:
                self.failures.append(str(error))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(timeout=30)
