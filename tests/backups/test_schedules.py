"""Daily scheduled backups, grandfather-father-son retention, expiry, and the scheduler command."""

from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from appcontrol.backups.models import Backup, BackupSchedule, Outcome, Trigger
from appcontrol.backups.schedules import (
    backups_to_keep,
    retention_apply,
    schedule_due,
    schedule_next_run,
    schedules_run,
)
from appcontrol.backups.services import backups_expire
from appcontrol.core.ids import encode_id
from tests.conftest import api_url

from .helpers import env_of, make_history, take_backup


def test_first_service_instance_gives_the_environment_a_default_daily_schedule(world, provision):
    provision(env_of(world, "live"), "sqlite")
    schedule = BackupSchedule.objects.get(environment=env_of(world, "live"))
    assert (schedule.enabled, schedule.hour, schedule.keep_daily, schedule.keep_weekly, schedule.keep_monthly) == (
        True, 2, 7, 4, 12,
    )  # fmt: skip
    body = world.client("member").get(api_url("api:backup-schedule-list")).json()
    assert body["count"] == 1 and body["results"][0]["environment"] == encode_id(env_of(world, "live").pk)


def test_schedule_can_be_changed_and_disabled_through_the_api(world, provision):
    provision(env_of(world, "test"), "sqlite")
    schedule = BackupSchedule.objects.get()
    url = api_url("api:backup-schedule-detail", uuid=schedule.pk)
    client = world.client("member")
    response = client.patch(url, {"hour": 23, "keep_daily": 3, "enabled": False}, format="json")
    assert response.status_code == 200, response.json()
    assert client.patch(url, {"hour": 24}, format="json").status_code == 400
    schedule.refresh_from_db()
    assert (schedule.hour, schedule.keep_daily, schedule.enabled) == (23, 3, False)
    assert world.client("outsider").get(url).status_code == 404
    assert client.delete(url).status_code == 403
    duplicate = client.post(
        api_url("api:backup-schedule-list"), {"environment": encode_id(env_of(world, "test").pk)}, format="json"
    )
    assert duplicate.status_code == 400


def test_due_once_per_day_after_the_hour():
    schedule = BackupSchedule(hour=2, created_at=datetime(2026, 11, 26, 14, 30, tzinfo=UTC))
    morning = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    assert not schedule_due(schedule, morning)  # created in the afternoon: first run at the next 02:00
    assert schedule_next_run(schedule) == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert schedule_due(schedule, morning + timedelta(hours=1))
    schedule.last_run_at = datetime(2026, 11, 26, 2, 0, 5, tzinfo=UTC)
    assert not schedule_due(schedule, morning)
    assert schedule_due(schedule, morning + timedelta(hours=1, minutes=1))
    schedule.last_run_at = morning + timedelta(hours=1, minutes=1)
    assert not schedule_due(schedule, morning + timedelta(hours=20))


def test_schedules_run_takes_a_scheduled_backup_once(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    assert schedules_run() == 0  # not before its hour
    at_the_hour = schedule_next_run(BackupSchedule.objects.get())
    with run_jobs():
        assert schedules_run(now=at_the_hour) == 1
    assert schedules_run(now=at_the_hour + timedelta(minutes=5)) == 0
    backup = Backup.objects.get()
    assert backup.trigger == Trigger.SCHEDULED and backup.success == Outcome.SUCCESS


def test_disabled_schedule_takes_nothing(world, provision):
    provision(env_of(world, "live"), "sqlite")
    BackupSchedule.objects.update(enabled=False)
    assert schedules_run() == 0


def test_retention_keeps_7_daily_4_weekly_12_monthly(world):
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    environment = env_of(world, "live")
    schedule = BackupSchedule.objects.create(environment=environment)
    history = make_history(environment, 400, now)
    manual = Backup.objects.create(
        environment=environment, state="COMPLETED", success=Outcome.SUCCESS, created_at=now - timedelta(days=300)
    )
    keep = backups_to_keep(history, schedule)
    ages = sorted((now - backup.created_at).days for backup in history if backup.pk in keep)
    assert ages[:7] == [0, 1, 2, 3, 4, 5, 6]
    months = {(b.created_at.year, b.created_at.month) for b in history if b.pk in keep}
    assert len(months) == 12
    assert len(keep) < 7 + 4 + 12
    marked = retention_apply(schedule=schedule, now=now)
    assert marked == 400 - len(keep)
    assert Backup.objects.filter(scheduled_for_deletion_at__isnull=True).count() == len(keep) + 1
    manual.refresh_from_db()
    assert manual.scheduled_for_deletion_at is None  # only scheduled backups are thinned out


def test_expired_backups_are_deleted_with_their_artifacts(world, provision, run_jobs, settings):
    provision(env_of(world, "live"), "sqlite")
    soon = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    backup = take_backup(world, run_jobs, env_of(world, "live"), scheduled_for_deletion_at=soon)
    assert backup["scheduled_for_deletion_at"].endswith("Z")
    files = [p for p in settings.APPCONTROL_BACKUP_DIR.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert backups_expire() == 0
    assert backups_expire(now=timezone.now() + timedelta(hours=2)) == 1
    assert not Backup.objects.exists() and not files[0].exists()


def test_scheduler_command_runs_one_round(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    BackupSchedule.objects.update(created_at=timezone.now() - timedelta(days=2))  # its hour has come
    out = StringIO()
    with run_jobs():
        call_command("scheduler", "--once", stdout=out)
    assert "scheduled 1" in out.getvalue()
    assert Backup.objects.get().trigger == Trigger.SCHEDULED
