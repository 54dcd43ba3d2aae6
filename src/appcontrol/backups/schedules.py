"""Scheduled backups and their retention: keep the newest successful backup of each of the last
`keep_daily` days, `keep_weekly` ISO weeks and `keep_monthly` months; mark the rest for deletion."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from appcontrol.services.models import ServiceStatus

from . import services
from .models import Backup, BackupSchedule, BackupState, Outcome, Trigger

logger = logging.getLogger(__name__)


def schedule_next_run(schedule: BackupSchedule) -> datetime:
    """The first `hour` o'clock (UTC) after the last run — or, for a schedule that never ran, after it was
    created: a new environment is backed up at its scheduled hour, not the moment the scheduler starts."""
    reference = schedule.last_run_at or schedule.created_at
    slot = reference.replace(hour=schedule.hour, minute=0, second=0, microsecond=0)
    return slot if slot > reference else slot + timedelta(days=1)


def schedule_due(schedule: BackupSchedule, now: datetime) -> bool:
    return now >= schedule_next_run(schedule)


def schedules_run(*, now: datetime | None = None) -> int:
    """Start every due scheduled backup; return how many were started."""
    now = now or timezone.now()
    started = 0
    for schedule in BackupSchedule.objects.filter(enabled=True):  # schedule_run reloads the due ones, locked
        if schedule_due(schedule, now) and schedule_run(schedule, now):
            started += 1
    for schedule in BackupSchedule.objects.all():
        retention_apply(schedule=schedule, now=now)
    return started


def schedule_run(schedule: BackupSchedule, now: datetime) -> bool:
    """Record the run and start the backup in one transaction, so whoever sees `last_run_at` also
    sees the backup it started, and a second scheduler waiting on the row lock finds it not due."""
    with transaction.atomic():
        schedule = BackupSchedule.objects.select_for_update().select_related("environment").get(pk=schedule.pk)
        if not (schedule.enabled and schedule_due(schedule, now)):
            return False
        schedule.last_run_at = now
        schedule.save(update_fields=["last_run_at"])
        instances = list(
            schedule.environment.service_instances.filter(service_status=ServiceStatus.ATTACHED).select_related(
                "service"
            )
        )
        if not instances:
            return False
        services.backup_create(environment=schedule.environment, service_instances=instances, trigger=Trigger.SCHEDULED)
        return True


def backups_to_keep(backups: list[Backup], schedule: BackupSchedule) -> set:
    """Ids of the backups the retention keeps; `backups` are successful ones, newest first."""
    keep = set()
    buckets = [
        (schedule.keep_daily, lambda moment: moment.date()),
        (schedule.keep_weekly, lambda moment: moment.isocalendar()[:2]),
        (schedule.keep_monthly, lambda moment: (moment.year, moment.month)),
    ]
    for count, bucket_of in buckets:
        seen = []
        for backup in backups:
            bucket = bucket_of(backup.created_at)
            if bucket in seen:
                continue
            if len(seen) == count:
                break
            seen.append(bucket)
            keep.add(backup.pk)
    return keep


def retention_apply(*, schedule: BackupSchedule, now: datetime) -> int:
    """Mark scheduled backups outside the retention for deletion now; return how many."""
    scheduled = Backup.objects.filter(
        environment_id=schedule.environment_id,
        trigger=Trigger.SCHEDULED,
        state=BackupState.COMPLETED,
        scheduled_for_deletion_at__isnull=True,
    ).order_by("-created_at")
    successful = [backup for backup in scheduled if backup.success == Outcome.SUCCESS]
    keep = backups_to_keep(successful, schedule)
    # Failed scheduled backups stay as long as a daily backup would, so a failure stays visible.
    failed_cutoff = now - timedelta(days=schedule.keep_daily)
    drop = [
        backup.pk
        for backup in scheduled
        if backup.pk not in keep and (backup.success == Outcome.SUCCESS or backup.created_at < failed_cutoff)
    ]
    return Backup.objects.filter(pk__in=drop).update(scheduled_for_deletion_at=now)


def schedule_ensure(*, environment) -> BackupSchedule:
    """Every environment with a service instance is backed up daily unless its schedule is disabled."""
    schedule, _ = BackupSchedule.objects.get_or_create(environment=environment)
    return schedule
