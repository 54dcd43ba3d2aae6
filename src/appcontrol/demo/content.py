"""Demo content: real service instances, with rows and files in `live` so a backup has something to hold."""

import sqlite3
from contextlib import closing

import psycopg

from appcontrol.applications.models import Application, EnvironmentVariable
from appcontrol.backups.schedules import schedule_ensure
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
