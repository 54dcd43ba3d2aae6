"""Back up, change, restore: the data comes back exactly, for every engine, also across environments."""

import sqlite3
from pathlib import Path

import psycopg

from appcontrol.backups.models import Backup
from appcontrol.core.ids import encode_id
from tests.conftest import api_url

from .helpers import database_url, env_of, restore, take_backup, tree_digest


def rows(url):
    with psycopg.connect(url) as conn:
        return conn.execute("select id, body from notes order by id").fetchall()


def test_postgres_backup_and_restore_bring_rows_back(world, provision, run_jobs, postgres_url):
    instance = provision(env_of(world, "live"), "postgres")
    url = database_url(instance)
    with psycopg.connect(url) as conn:
        conn.execute("create table notes (id serial primary key, body text)")
        conn.execute("insert into notes (body) select 'note ' || n from generate_series(1, 500) n")
    before = rows(url)

    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["state"] == "COMPLETED" and backup["success"] == "SUCCESS"
    sib = world.client("member").get(
        api_url("api:service-instance-backup-detail", uuid=backup["service_instance_backups"][0])
    )
    sib = sib.json()
    assert sib["errors"] == [] and sib["size"] > 0 and len(sib["sha256"]) == 64
    assert sib["taken_at"] <= sib["ended_at"] and sib["service_type"] == "DATABASE"

    with psycopg.connect(url) as conn:
        conn.execute("delete from notes where id % 2 = 0")
        conn.execute("update notes set body = 'changed'")
        conn.execute("create table added_later (x int)")
    result = restore(world, run_jobs, backup, actor="admin")
    assert result["finished"] is True and result["success"] == "SUCCESS", result["service_instance_restores"][0][
        "errors"
    ]
    assert rows(url) == before
    with psycopg.connect(url) as conn:  # objects created after the backup are gone too
        assert conn.execute("select to_regclass('added_later')").fetchone()[0] is None
        owner = conn.execute("select tableowner from pg_tables where tablename = 'notes'").fetchone()[0]
    assert owner == instance.resource["role"]


def test_postgres_restore_into_another_environment(world, provision, run_jobs, postgres_url):
    live_db = provision(env_of(world, "live"), "postgres")
    test_db = provision(env_of(world, "test"), "postgres")
    with psycopg.connect(database_url(live_db)) as conn:
        conn.execute("create table notes (id int primary key, body text)")
        conn.execute("insert into notes values (1, 'from live')")
    with psycopg.connect(database_url(test_db)) as conn:
        conn.execute("create table notes (id int primary key, body text)")
        conn.execute("insert into notes values (2, 'from test')")
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    result = restore(world, run_jobs, backup, targets={backup["service_instance_backups"][0]: test_db}, actor="admin")
    assert result["success"] == "SUCCESS", result
    assert rows(database_url(test_db)) == [(1, "from live")]
    assert rows(database_url(live_db)) == [(1, "from live")]


def test_sqlite_round_trip(world, provision, run_jobs):
    instance = provision(env_of(world, "live"), "sqlite")
    path = instance.resource["path"]
    with sqlite3.connect(path) as db:
        db.execute("create table notes (id integer primary key, body text)")
        db.executemany("insert into notes (body) values (?)", [(f"note {n}",) for n in range(300)])
    before = sqlite3.connect(path).execute("select * from notes").fetchall()
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "SUCCESS"
    with sqlite3.connect(path) as db:
        db.execute("delete from notes where id > 10")
    assert restore(world, run_jobs, backup, actor="admin")["success"] == "SUCCESS"
    assert sqlite3.connect(path).execute("select * from notes").fetchall() == before


def test_media_round_trip_and_clone_live_into_test(world, provision, run_jobs):
    live_media = provision(env_of(world, "live"), "filesystem")
    test_media = provision(env_of(world, "test"), "filesystem")
    root = Path(live_media.resource["path"])
    (root / "images").mkdir()
    (root / "images" / "logo.png").write_bytes(bytes(range(256)) * 100)
    (root / "readme.txt").write_text("hello")
    before = tree_digest(root)
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    (root / "readme.txt").write_text("changed")
    (root / "new.txt").write_text("new")
    assert restore(world, run_jobs, backup, actor="admin")["success"] == "SUCCESS"
    assert tree_digest(root) == before
    result = restore(world, run_jobs, backup, targets={backup["service_instance_backups"][0]: test_media})
    assert result["success"] == "SUCCESS"
    assert tree_digest(Path(test_media.resource["path"])) == before


def test_backup_of_several_instances_and_the_seed_chain_with_filters(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    provision(env_of(world, "live"), "filesystem")
    provision(env_of(world, "test"), "sqlite")
    take_backup(world, run_jobs, env_of(world, "test"))
    backup = take_backup(world, run_jobs, env_of(world, "live"), notes="nightly")
    assert len(backup["service_instance_backups"]) == 2 and backup["notes"] == "nightly"
    client = world.client("member")
    # The seed's chain, with filters instead of page scans.
    app = client.get(api_url("api:application-list", query="slug=example-application")).json()["results"][0]
    env = client.get(api_url("api:environment-list", query=f"application={app['uuid']}&slug=live")).json()["results"][0]
    backups = client.get(api_url("api:backup-list", query=f"environment={env['uuid']}&success=SUCCESS")).json()
    assert [b["uuid"] for b in backups["results"]] == [backup["uuid"]]
    parts = client.get(api_url("api:service-instance-backup-list", query=f"backup={backup['uuid']}")).json()
    assert parts["count"] == 2
    database_part = next(p for p in parts["results"] if p["service_type"] == "DATABASE")
    instance = client.get(api_url("api:service-instance-detail", uuid=database_part["service_instance"])).json()
    assert instance["type"] == "DATABASE"
    by_type = client.get(
        api_url("api:service-instance-backup-list", query=f"environment={env['uuid']}&service_type=STORAGE")
    ).json()
    assert by_type["count"] == 1
    assert client.get(api_url("api:backup-list", query=f"application={app['uuid']}")).json()["count"] == 2
    assert world.client("outsider").get(api_url("api:backup-list")).json()["count"] == 0


def test_backup_of_an_environment_without_instances_is_400(world):
    response = world.client("member").post(
        api_url("api:backup-list"), {"environment": encode_id(env_of(world, "live").pk)}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"services": ["The environment has no service instances to back up."]}
    assert not Backup.objects.exists()


def test_services_of_another_environment_are_400(world, provision):
    other = provision(env_of(world, "test"), "sqlite")
    body = {"environment": encode_id(env_of(world, "live").pk), "services": [encode_id(other.pk)]}
    response = world.client("member").post(api_url("api:backup-list"), body, format="json")
    assert response.status_code == 400 and "services" in response.json()


def test_restoring_into_live_needs_admin(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    response = world.client("member").post(
        api_url("api:backup-restore-list"),
        {
            "backup": backup["uuid"],
            "service_instance_restores": [{"service_instance_backup": backup["service_instance_backups"][0]}],
        },
        format="json",
    )
    assert response.status_code == 403


def test_restore_into_an_instance_of_another_engine_is_400(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    media = provision(env_of(world, "test"), "filesystem")
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    item = {"service_instance_backup": backup["service_instance_backups"][0], "service_instance": encode_id(media.pk)}
    response = world.client("admin").post(
        api_url("api:backup-restore-list"),
        {"backup": backup["uuid"], "service_instance_restores": [item]},
        format="json",
    )
    assert response.status_code == 400
    assert "cannot be restored into a filesystem" in str(response.json())


def test_delete_backup_removes_its_artifacts(world, provision, run_jobs, settings):
    provision(env_of(world, "live"), "sqlite")
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    artifacts = list(Path(settings.APPCONTROL_BACKUP_DIR).rglob("*.sqlite3"))
    assert len(artifacts) == 1
    url = api_url("api:backup-detail", uuid=backup["uuid"])
    assert world.client("member").delete(url).status_code == 403
    assert world.client("admin").delete(url).status_code == 204
    assert not artifacts[0].exists()


def test_date_filters_accept_any_offset(world):
    client = world.client("member")
    response = client.get(api_url("api:backup-list", query="created_after=2184-05-29T15%3A22%3A07%2B22%3A38"))
    assert response.status_code == 200 and response.json()["count"] == 0
    assert client.get(api_url("api:backup-list", query="created_before=yesterday")).status_code == 400
