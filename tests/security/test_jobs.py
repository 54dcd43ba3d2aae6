"""One tenant's failing or hanging job must not hold up anyone else's, nor collide with another job on
the same target."""

import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.utils import timezone

from appcontrol.backups.models import Backup, BackupRestore, ServiceInstanceRestore
from appcontrol.backups.services import backup_create
from appcontrol.backups.tasks import BackupRunner, RestoreRunner
from appcontrol.core.ids import decode_id
from appcontrol.core.jobs import Busy, Heartbeat, jobs_reap
from appcontrol.core.models import JobLock
from tests.backups.helpers import database_url, env_of, take_backup

from .attacks import plain_sql, restore_backup, upload


def test_a_failing_restore_does_not_block_the_next_job(world, provision, run_jobs, postgres_url):
    """psql stops at the first error while pg_restore would still be writing 200 000 rows: nothing may wait
    on a pipe nobody reads. Then another organisation's backup runs."""
    mine = provision(env_of(world, "test"), "postgres")
    theirs = provision(env_of(world, "live", app="other"), "postgres")
    rows = "".join(f"{n}\trow {n}\n" for n in range(200_000))
    script = plain_sql("CREATE EXTENSION file_fdw;", "CREATE TABLE big (id int, body text);", "COPY big FROM stdin;")
    backup = upload(world, run_jobs, env_of(world, "test"), mine, script + rows.encode() + b"\\.\n")
    result = restore_backup(world, run_jobs, backup)
    assert result["success"] == "FAILURE" and "file_fdw" in result["service_instance_restores"][0]["errors"][0]
    with psycopg.connect(database_url(theirs)) as conn:
        conn.execute("create table t (x int)")
    other = take_backup(world, run_jobs, env_of(world, "live", app="other"), actor="outsider")
    assert other["success"] == "SUCCESS"


def test_a_hanging_restore_is_stopped_at_its_deadline_and_changes_nothing(
    world, provision, run_jobs, postgres_url, settings
):
    """A script that never ends (here, it sleeps): its psql is killed at the job's deadline."""
    instance = provision(env_of(world, "test"), "postgres")
    with psycopg.connect(database_url(instance)) as conn:
        conn.execute("create table keep (x int)")
        conn.execute("insert into keep values (1)")
    backup = upload(world, run_jobs, env_of(world, "test"), instance, plain_sql("SELECT pg_sleep(600);"))
    settings.APPCONTROL_JOB_TIMEOUT_SECONDS = 3
    result = restore_backup(world, run_jobs, backup)
    assert result["success"] == "FAILURE"
    assert "time limit" in result["service_instance_restores"][0]["errors"][0]
    with psycopg.connect(database_url(instance)) as conn:
        assert conn.execute("select x from keep").fetchall() == [(1,)]


def test_an_open_session_does_not_stop_a_restore(world, provision, run_jobs, postgres_url):
    """The application holds a lock and an open transaction: the restored copy still takes the database's
    place (its sessions are closed, as the data under them is replaced)."""
    instance = provision(env_of(world, "test"), "postgres")
    with psycopg.connect(database_url(instance)) as conn:
        conn.execute("create table keep (x int)")
    backup = take_backup(world, run_jobs, env_of(world, "test"))
    holder = psycopg.connect(database_url(instance))
    holder.execute("insert into keep values (2)")
    holder.execute("lock table keep in access exclusive mode")
    result = restore_backup(world, run_jobs, Backup.objects.get(pk=decode_id(backup["uuid"])))
    assert result["success"] == "SUCCESS", result["service_instance_restores"][0]["errors"]
    with pytest.raises(psycopg.OperationalError):
        holder.execute("select 1")
    with psycopg.connect(database_url(instance)) as conn:
        assert conn.execute("select count(*) from keep").fetchone()[0] == 0


def test_work_in_the_worker_itself_stops_at_the_deadline(world, provision, run_jobs, settings, tmp_path):
    """Not only children: the worker's own loops (here, checking an upload's checksum) stop at the deadline."""
    instance = provision(env_of(world, "test"), "sqlite")
    settings.APPCONTROL_JOB_TIMEOUT_SECONDS = 0
    backup = upload(world, run_jobs, env_of(world, "test"), instance, Path(instance.resource["path"]).read_bytes())
    assert backup.success == "FAILURE"
    assert "time limit" in backup.service_instance_backups.get().errors[0]


def test_the_reaper_fails_a_job_past_its_deadline_even_while_it_beats(world, provision, settings):
    provision(env_of(world, "live"), "sqlite")
    backup = backup_create(environment=env_of(world, "live"))  # queued, never run: the on-commit never fires
    long_ago = timezone.now() - timedelta(seconds=settings.APPCONTROL_JOB_TIMEOUT_SECONDS + 120)
    Backup.objects.filter(pk=backup.pk).update(started_at=long_ago, heartbeat_at=timezone.now())
    assert jobs_reap() == 1
    backup.refresh_from_db()
    assert backup.success == "FAILURE"
    assert "time limit" in backup.service_instance_backups.get().errors[0]


def test_heartbeats_stop_at_the_deadline(world, provision, settings):
    settings.APPCONTROL_JOB_HEARTBEAT_SECONDS = 0.05
    provision(env_of(world, "live"), "sqlite")
    backup = backup_create(environment=env_of(world, "live"))
    with Heartbeat(Backup, backup.pk, deadline=time.monotonic() - 1):
        time.sleep(0.3)
    backup.refresh_from_db()
    assert backup.heartbeat_at is None


@pytest.fixture
def database_with_backup(world, provision, run_jobs):
    instance = provision(env_of(world, "test"), "sqlite")
    return instance, take_backup(world, run_jobs, env_of(world, "test"))


def queued_restore(backup: dict, instance) -> BackupRestore:
    restore = BackupRestore.objects.create(backup_id=decode_id(backup["uuid"]))
    ServiceInstanceRestore.objects.create(
        backup_restore=restore, service_instance_backup_id=decode_id(backup["service_instance_backups"][0]),
        service_instance=instance,
    )  # fmt: skip
    return restore


def test_a_restore_waits_while_a_backup_of_its_instance_runs(world, database_with_backup):
    instance, backup = database_with_backup
    running = backup_create(environment=env_of(world, "test"))
    assert BackupRunner().claim(running.pk) is not None  # started, holding the instance
    restore = queued_restore(backup, instance)
    with pytest.raises(Busy):
        RestoreRunner().claim(restore.pk)
    restore.refresh_from_db()
    assert restore.started_at is None  # still queued, untouched
    Backup.objects.filter(pk=running.pk).update(ended_at=timezone.now())
    JobLock.objects.filter(holder=BackupRunner().holder(running.pk)).delete()
    assert RestoreRunner().claim(restore.pk) is not None


def test_a_waiting_job_tries_again_less_often_the_longer_it_waits():
    """Each try is a row in the task queue: a restore waiting behind a six-hour backup must not add thousands."""
    now = timezone.now()
    assert Busy(now).retry_in() == 2
    assert Busy(now - timedelta(seconds=100)).retry_in() == pytest.approx(10, abs=0.5)
    assert Busy(now - timedelta(hours=6)).retry_in() == 30


def test_a_lock_left_by_an_ended_job_is_taken_over(world, database_with_backup):
    instance, backup = database_with_backup
    crashed = queued_restore(backup, instance)
    assert RestoreRunner().claim(crashed.pk) is not None
    BackupRestore.objects.filter(pk=crashed.pk).update(ended_at=timezone.now())  # the reaper failed it
    assert RestoreRunner().claim(queued_restore(backup, instance).pk) is not None


def test_two_restores_into_one_instance_run_one_after_the_other(world, database_with_backup, transactional_db):
    """Without a backend that defers, the second restore's worker waits for the first to finish."""
    instance, backup = database_with_backup
    first, second = queued_restore(backup, instance), queued_restore(backup, instance)
    assert RestoreRunner().claim(first.pk) is not None
    done = threading.Event()

    def run_second():
        try:
            RestoreRunner().execute(second.pk)
        finally:
            from django.db import connection

            connection.close()
            done.set()

    thread = threading.Thread(target=run_second)
    thread.start()
    time.sleep(0.5)
    second.refresh_from_db()
    assert second.started_at is None and not done.is_set()
    RestoreRunner().run(first)  # the first finishes (and releases its instance)
    JobLock.objects.filter(holder=RestoreRunner().holder(first.pk)).delete()
    assert done.wait(30)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.success == second.success == "SUCCESS"
    assert second.started_at >= first.ended_at


def test_a_job_keeps_a_log_of_what_it_did(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "SUCCESS"
    assert any("Backing up DATABASE DEFAULT" in line for line in backup["log"])
    assert any(line.endswith(tuple(backup_part_sha(backup))) for line in backup["log"])


def backup_part_sha(backup: dict) -> list[str]:
    from appcontrol.backups.models import ServiceInstanceBackup

    return [
        f"sha256 {part.sha256}" for part in ServiceInstanceBackup.objects.filter(backup_id=decode_id(backup["uuid"]))
    ]


def test_a_queued_job_can_be_cancelled_once(world, provision):
    from tests.conftest import api_url

    provision(env_of(world, "live"), "sqlite")
    queued = backup_create(environment=env_of(world, "live"))  # the worker never gets it: on-commit not run
    client = world.client("member")
    url = api_url("api:backup-detail", uuid=queued.pk) + "cancel/"
    response = client.post(url)
    assert response.status_code == 202 and response.json()["success"] == "FAILURE"
    part = queued.service_instance_backups.get()
    assert part.errors == ["The job was cancelled before it started."]
    again = client.post(url)
    assert again.status_code == 409 and "already ended" in again.json()["non_field_errors"][0]


def test_the_log_keeps_the_newest_lines(world, provision, monkeypatch):
    from appcontrol.core import jobs

    provision(env_of(world, "live"), "sqlite")
    backup = backup_create(environment=env_of(world, "live"))
    monkeypatch.setattr(jobs, "JOB_LOG_LINES", 5)
    jobs._running.job = jobs._Running(Backup, backup.pk)
    try:
        for number in range(12):
            jobs.log(f"line {number}")
    finally:
        jobs._running.job = None
    backup.refresh_from_db()
    assert backup.log[0] == "… 8 earlier lines dropped" and backup.log[-1].endswith("line 11") and len(backup.log) == 5
