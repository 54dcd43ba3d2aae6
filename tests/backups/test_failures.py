"""Failure paths: each ends in a clear error, nothing reported as a success, nothing half-written."""

from datetime import timedelta
from unittest import mock

import psycopg
from django.utils import timezone

from appcontrol.backups.models import Backup, ServiceInstanceBackup
from appcontrol.backups.services import backup_create
from appcontrol.core.jobs import jobs_reap
from appcontrol.services.engines import postgres

from .helpers import database_url, env_of, take_backup


def assert_failed_cleanly(backup: dict, settings, message: str):
    assert backup["state"] == "COMPLETED" and backup["success"] == "FAILURE"
    sib = ServiceInstanceBackup.objects.get()
    assert message in sib.errors[0], sib.errors
    assert sib.ended_at is not None and sib.artifact == "" and sib.size is None and sib.sha256 == ""
    assert not [p for p in settings.APPCONTROL_BACKUP_DIR.rglob("*") if p.is_file()]


def test_unreachable_database_fails_with_a_clear_error(world, provision, run_jobs, settings, postgres_url):
    provision(env_of(world, "live"), "postgres")
    settings.APPCONTROL_POSTGRES_URL = "postgres://postgres@127.0.0.1:1/postgres"
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    settings.APPCONTROL_POSTGRES_URL = postgres_url
    assert_failed_cleanly(backup, settings, "Cannot connect to the PostgreSQL server")


def test_newer_server_than_pg_dump_is_a_clear_error(world, provision, run_jobs, settings, postgres_url):
    provision(env_of(world, "live"), "postgres")
    with mock.patch.object(postgres, "_tool_version", return_value=(9, 6)):
        backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert_failed_cleanly(backup, settings, "but this host's pg_dump is version 9")


def test_pg_dump_failing_midway_leaves_no_artifact(world, provision, run_jobs, settings, postgres_url):
    instance = provision(env_of(world, "live"), "postgres")
    with psycopg.connect(database_url(instance)) as conn:
        conn.execute("create table notes (body text)")
    # The operator's role cannot read a table it has no rights on: pg_dump fails after it started.
    settings.APPCONTROL_POSTGRES_URL = f"postgres://{instance.resource['role']}@127.0.0.1:5432/postgres"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"create role intruder_{instance.resource['role'][3:13]} login")
    settings.APPCONTROL_POSTGRES_URL = f"postgres://intruder_{instance.resource['role'][3:13]}@127.0.0.1:5432/postgres"
    try:
        backup = take_backup(world, run_jobs, env_of(world, "live"))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"drop role intruder_{instance.resource['role'][3:13]}")
        settings.APPCONTROL_POSTGRES_URL = postgres_url
    assert backup["success"] == "FAILURE"
    sib = ServiceInstanceBackup.objects.get()
    assert sib.errors and sib.artifact == ""
    assert not [p for p in settings.APPCONTROL_BACKUP_DIR.rglob("*") if p.is_file()]


def test_storage_write_failure_is_reported(world, provision, run_jobs, settings, tmp_path):
    provision(env_of(world, "live"), "sqlite")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.APPCONTROL_BACKUP_DIR = blocker / "backups"
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "FAILURE"
    sib = ServiceInstanceBackup.objects.get()
    assert "Not a directory" in sib.errors[0] and sib.artifact == ""


def test_one_failing_part_makes_the_backup_partial(world, provision, run_jobs):
    broken = provision(env_of(world, "live"), "sqlite")
    provision(env_of(world, "live"), "filesystem")
    broken.resource = {"path": str(broken.resource["path"]) + ".gone"}
    broken.save()
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["state"] == "COMPLETED" and backup["success"] == "PARTIAL"


def test_a_worker_that_dies_mid_backup_is_reaped(world, provision, settings):
    provision(env_of(world, "live"), "sqlite")
    backup = backup_create(environment=env_of(world, "live"))  # queued, never run: the on-commit never fires
    sib = backup.service_instance_backups.get()
    # What a killed worker leaves behind: a started job, a stale heartbeat, a partial artifact.
    stale = timezone.now() - timedelta(seconds=settings.APPCONTROL_JOB_STALE_SECONDS + 5)
    Backup.objects.filter(pk=backup.pk).update(started_at=stale, heartbeat_at=stale)
    ServiceInstanceBackup.objects.filter(pk=sib.pk).update(started_at=stale)
    from appcontrol.backups.services import _artifact_name

    partial = settings.APPCONTROL_BACKUP_DIR / (_artifact_name(sib) + ".partial-0123456789ab")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a dump")

    assert jobs_reap() == 1
    backup.refresh_from_db()
    sib.refresh_from_db()
    assert backup.state == "COMPLETED" and backup.success == "FAILURE"
    assert "worker stopped" in sib.errors[0]
    assert not partial.exists()
    assert jobs_reap() == 0  # nothing left to reap


def test_a_live_heartbeat_is_not_reaped(world, provision):
    provision(env_of(world, "live"), "sqlite")
    backup = backup_create(environment=env_of(world, "live"))
    Backup.objects.filter(pk=backup.pk).update(started_at=timezone.now(), heartbeat_at=timezone.now())
    assert jobs_reap() == 0
    backup.refresh_from_db()
    assert backup.state == "WORKING"
