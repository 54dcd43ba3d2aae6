"""Demo content: real service instances, with rows and files in `live` so a backup has something to hold."""

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import psycopg
from django.conf import settings

from appcontrol.applications.models import Application, AppTemplate, EnvironmentVariable, Repository
from appcontrol.backups.schedules import schedule_ensure
from appcontrol.deployments import git
from appcontrol.deployments.services import repository_clone, repository_fail
from appcontrol.deployments.templates import TemplateError, template_add
from appcontrol.services.engines import engine_for
from appcontrol.services.models import Engine, Service, ServiceInstance, ServiceStatus
from appcontrol.services.services import service_instance_provision

DEMO_ROWS = [(n, f"Demo note {n}") for n in range(1, 101)]


def demo_services(application: Application) -> str:
    """Give each environment a database (PostgreSQL when configured) and media storage; fill live.

    Provisioned inline rather than by the worker, so the demo is ready when the command returns.
    """
    database = Engine.POSTGRES if engine_for(Engine.POSTGRES).is_configured() else Engine.SQLITE
    for environment in application.environments.all():
        for engine in (database, Engine.FILESYSTEM):
            service = Service.objects.get(engine=engine)
            instance, created = ServiceInstance.objects.get_or_create(
                environment=environment,
                type=service.type,
                prefix="DEFAULT",
                defaults={"service": service, "region": application.region},
            )
            if instance.service_status != ServiceStatus.ATTACHED:
                service_instance_provision(instance=instance)
            schedule_ensure(environment=environment)
            if environment.slug == "live" and created:
                _fill(instance)
    return Engine(database).label


def _fill(instance: ServiceInstance) -> None:
    if instance.service.engine == Engine.FILESYSTEM:
        from pathlib import Path

        root = Path(instance.resource["path"])
        (root / "images").mkdir(exist_ok=True)
        (root / "images" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>')
        (root / "README.txt").write_text("Media of the demo application.\n")
        return
    create = "CREATE TABLE IF NOT EXISTS notes (id integer PRIMARY KEY, body text NOT NULL)"
    if instance.service.engine == Engine.SQLITE:
        with closing(sqlite3.connect(instance.resource["path"])) as db, db:
            db.execute(create)
            db.executemany("INSERT OR IGNORE INTO notes VALUES (?, ?)", DEMO_ROWS)
        return
    url = EnvironmentVariable.objects.get(service_instance=instance).value
    with psycopg.connect(url) as db:
        db.execute(create)
        db.cursor().executemany("INSERT INTO notes VALUES (%s, %s) ON CONFLICT DO NOTHING", DEMO_ROWS)


WEBAPP = Path(__file__).with_name("webapp")
RELEASE_COMMANDS = [{"label": "migrate", "command": "python3 /app/release.py"}]


def demo_source() -> Path:
    """A local git repository holding the demo web application (made once)."""
    source = settings.DATA_DIR / "demo-webapp"
    if not (source / ".git").exists():
        shutil.copytree(WEBAPP, source, dirs_exist_ok=True)
        for argv in (
            ["init", "--quiet", "--initial-branch", "main"],
            ["add", "--all"],
            [
                "-c",
                "user.name=appcontrol demo",
                "-c",
                "user.email=demo@appcontrol.invalid",
                "commit",
                "-qm",
                "Demo app",
            ],
        ):
            # The operator's own git on the demo's own files: nothing here comes from a tenant.
            subprocess.run(["git", "-C", str(source), *argv], check=True, capture_output=True, timeout=60)  # noqa: S607
    return source


def demo_repository(application: Application) -> Repository:
    """The demo web application as the application's repository (cloned inline, so a deployment can start
    as soon as the command returns)."""
    url = f"file://{demo_source()}"
    repository = application.repository
    if repository is None or repository.url != url:
        repository = Repository.objects.create(organisation=application.organisation, url=url)
        application.repository = repository
        application.release_commands = RELEASE_COMMANDS
        application.save(update_fields=["repository", "release_commands"])
    if repository.state != Repository.State.CLONED:
        try:
            repository_clone(repository=repository)
        except git.GitError as error:
            # Confined git runs as an unprivileged uid without bubblewrap: the data dir must be readable to it.
            repository_fail(repository=repository, message=str(error))
        repository.refresh_from_db()
    return repository


def demo_template() -> AppTemplate | None:
    """The demo web application offered as a template too: `divio app create -t <its url>` starts from it."""
    url = f"file://{demo_source()}"
    found = AppTemplate.objects.filter(url=url).first()
    if found is not None:
        return found
    try:
        return template_add(
            url=url, name="Demo web app", identifier="demo-webapp", is_default=True,
            short_description="A small Python web application with a release command and a SQLite database.",
            release_commands=RELEASE_COMMANDS, services=[{"identifier": "sqlite", "prefix": "DEFAULT"}],
        )  # fmt: skip
    except TemplateError:
        return None  # as for the repository: confined git could not read the data dir
