import os
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from appcontrol.accounts.models import Organisation, Role, User
from appcontrol.accounts.services import membership_set, token_create
from appcontrol.applications.models import Region
from appcontrol.applications.services import application_create
from appcontrol.core.ids import encode_id

# The container engine, router and demo repository of the deployment tests (tests/security uses them too).
pytest_plugins = ["tests.deployments.fixtures", "tests.deployments.git_servers"]


def pytest_sessionstart(session):
    # CI promises a PostgreSQL run: a missing server must fail the run, never fall back to SQLite.
    if os.environ.get("APPCONTROL_REQUIRE_POSTGRES") == "1" and connection.vendor != "postgresql":
        pytest.exit("APPCONTROL_REQUIRE_POSTGRES=1 but DATABASE_URL is not a PostgreSQL database", returncode=1)


@pytest.fixture(autouse=True)
def isolated_data(settings, tmp_path):
    """Each test gets its own artifact and service directories."""
    settings.APPCONTROL_BACKUP_DIR = tmp_path / "backups"
    settings.APPCONTROL_SERVICES_DIR = tmp_path / "services"
    settings.APPCONTROL_REPOSITORIES_DIR = settings.DATA_DIR / "repositories" / tmp_path.name


def api_url(name: str, *, query: str = "", **kwargs) -> str:
    """The canonical URL (with its trailing slash) of a named API route."""
    path = reverse(name, kwargs={k: encode_id(v) if hasattr(v, "hex") else v for k, v in kwargs.items()})
    path = path.rstrip("/") + "/"
    return f"{path}?{query}" if query else path


def client_for(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@dataclass
class World:
    """Two organisations and one person per role, each with a client that carries their token."""

    acme: Organisation
    other: Organisation
    region: Region
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    apps: dict = field(default_factory=dict)

    def client(self, actor: str) -> APIClient:
        return client_for(self.tokens.get(actor))

    def add_actor(self, name: str, organisation: Organisation | None, role: str = Role.MEMBER, **token_options):
        user = User.objects.create_user(f"{name}@example.com", password="correct horse battery")
        if organisation is not None:
            membership_set(user=user, organisation=organisation, role=role)
        _, clear = token_create(user=user, name=name, **token_options)
        self.users[name] = user
        self.tokens[name] = clear
        return user


def _reference_data() -> None:
    """The rows migrations add (the service catalogue, the default plan group), back after a transactional
    test's flush removed them for the tests that run after it."""
    from importlib import import_module

    from django.apps import apps

    from appcontrol.applications.models import PlanGroup
    from appcontrol.services.models import Service

    if not Service.objects.exists():
        import_module("appcontrol.services.migrations.0002_service_catalogue").add_catalogue(apps, None)
    if not PlanGroup.objects.exists():
        PlanGroup.objects.create(name="Standard")


@pytest.fixture
def world(db) -> World:
    _reference_data()
    acme = Organisation.objects.create(slug="acme", name="Acme")
    other = Organisation.objects.create(slug="other", name="Other")
    region = Region.objects.create(slug="local", name="Local")
    world = World(acme=acme, other=other, region=region)
    world.add_actor("owner", acme, Role.OWNER)
    world.add_actor("admin", acme, Role.ADMIN)
    world.add_actor("member", acme, Role.MEMBER)
    world.add_actor("outsider", other, Role.OWNER)
    world.apps["acme"] = application_create(organisation=acme, slug="example-application", name="Example")
    world.apps["other"] = application_create(organisation=other, slug="other-application", name="Other")
    return world


@pytest.fixture
def postgres_url(settings):
    """The PostgreSQL cluster for database service instances; CI must have one, elsewhere it may be absent."""
    if not settings.APPCONTROL_POSTGRES_URL:
        if os.environ.get("APPCONTROL_REQUIRE_POSTGRES") == "1":
            pytest.fail("APPCONTROL_POSTGRES_URL is not set, but this run requires PostgreSQL")
        pytest.skip("APPCONTROL_POSTGRES_URL is not set")
    return settings.APPCONTROL_POSTGRES_URL


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """`with run_jobs(): ...` runs the jobs queued inside the block when it ends, as a worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def provision(world, run_jobs):
    """Provision service instances for real, and remove their resources after the test."""
    from appcontrol.services.engines import engine_for
    from appcontrol.services.models import Service, ServiceInstance
    from appcontrol.services.services import service_instance_create

    created = []

    def make(environment, engine: str, prefix: str = "DEFAULT"):
        with run_jobs():
            instance = service_instance_create(
                environment=environment, service=Service.objects.get(engine=engine), prefix=prefix
            )
        instance.refresh_from_db()
        created.append(instance)
        assert instance.service_status == "ATTACHED", instance.errors
        return instance

    yield make
    for instance in created:  # deleted instances were deprovisioned already; their rows are gone
        if ServiceInstance.objects.filter(pk=instance.pk).exists():
            engine_for(instance.service.engine).deprovision(instance)


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 protocol server (moto in server mode) on 127.0.0.1, for the whole test session."""
    import shutil
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the S3 test server (moto_server) did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3(settings, s3_server):
    """An empty bucket on the S3 test server, configured as the operator would."""
    import uuid

    from appcontrol.core.s3 import s3_client

    settings.APPCONTROL_S3_ENDPOINT_URL = s3_server
    settings.APPCONTROL_S3_BUCKET = f"test-{uuid.uuid4().hex[:12]}"
    settings.APPCONTROL_S3_ACCESS_KEY_ID = "testing"
    settings.APPCONTROL_S3_SECRET_ACCESS_KEY = "testing"
    client = s3_client()
    client.create_bucket(Bucket=settings.APPCONTROL_S3_BUCKET)
    return client
