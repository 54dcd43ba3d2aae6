"""Backups of service instances, their downloads, uploads and restores."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from appcontrol.accounts.ownership import OrganisationOwned
from appcontrol.applications.models import Environment
from appcontrol.core.ids import new_id
from appcontrol.core.jobs import JobFields, JobRow
from appcontrol.services.models import ServiceInstance, ServiceType


class BackupState(models.TextChoices):
    WORKING = "WORKING"
    COMPLETED = "COMPLETED"


class Outcome(models.TextChoices):
    SUCCESS = "SUCCESS"
    PARTIAL = "PARTIAL"
    FAILURE = "FAILURE"


class Trigger(models.TextChoices):
    MANUAL = "MANUAL"
    SCHEDULED = "SCHEDULED"
    UPLOAD = "UPLOAD"


def outcome_of(errors_per_part: list[list[str]]) -> str:
    failed = sum(1 for errors in errors_per_part if errors)
    if failed == 0:
        return Outcome.SUCCESS
    return Outcome.FAILURE if failed == len(errors_per_part) else Outcome.PARTIAL


class Backup(OrganisationOwned, JobRow):
    """One backup of an environment: a service-instance backup per service instance.

    `state` is COMPLETED whatever the outcome; `success` tells the outcome.
    """

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="backups")
    organisation_from = "environment"
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    notes = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=BackupState.choices, default=BackupState.WORKING)
    # null means "not finished yet" on the wire, distinct from any outcome.
    success = models.CharField(max_length=16, choices=Outcome.choices, null=True, blank=True)  # noqa: DJ001
    scheduled_for_deletion_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-uuid"]
        indexes = [
            # The list order: a page deep into every backup is an index walk, not a sort of all of them.
            models.Index(fields=["-created_at", "-uuid"]),
            models.Index(fields=["environment", "-created_at"]),
            models.Index(fields=["scheduled_for_deletion_at"]),
        ]

    def __str__(self):
        return f"backup {self.pk} of {self.environment_id}"


class ServiceInstanceBackup(OrganisationOwned, JobFields):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="service_instance_backups")
    # The backup's environment, copied so the `environment` filter of this, the biggest list, uses an index
    # instead of a join through every backup.
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="service_instance_backups", db_index=False, editable=False
    )
    organisation_from = "backup"
    service_instance = models.ForeignKey(ServiceInstance, null=True, on_delete=models.SET_NULL, related_name="backups")
    service_type = models.CharField(max_length=16, choices=ServiceType.choices)
    engine = models.CharField(max_length=16)
    taken_at = models.DateTimeField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    errors = models.JSONField(default=list, blank=True)
    artifact = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-queued_at", "-uuid"]
        indexes = [
            models.Index(fields=["-queued_at", "-uuid"]),  # the list order, as for backups
            models.Index(fields=["environment", "-queued_at"]),
        ]

    def __str__(self):
        return f"{self.service_type} backup {self.pk}"

    @property
    def succeeded(self) -> bool:
        return self.ended_at is not None and not self.errors and bool(self.artifact)


class BackupDownload(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="downloads")
    trigger = models.CharField(max_length=16, default="PULL")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-uuid"]

    def __str__(self):
        return f"download {self.pk} of backup {self.backup_id}"


class BackupDownloadServiceInstance(models.Model):
    """One artifact of a download; ready at once, since the artifact already exists."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    backup_download = models.ForeignKey(BackupDownload, on_delete=models.CASCADE, related_name="items")
    service_instance_backup = models.ForeignKey(ServiceInstanceBackup, on_delete=models.CASCADE)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-uuid"]

    def __str__(self):
        return f"download of {self.service_instance_backup_id}"


class BackupRestore(JobRow):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="restores")
    notes = models.TextField(blank=True)
    # null means "not finished yet" on the wire, distinct from any outcome.
    success = models.CharField(max_length=16, choices=Outcome.choices, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    # Queued once its target instances are provisioned (an environment copied with its data).
    waits_for_provisioning = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-uuid"]

    def __str__(self):
        return f"restore {self.pk} of backup {self.backup_id}"

    @property
    def finished(self) -> bool:
        return self.ended_at is not None


class ServiceInstanceRestore(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    backup_restore = models.ForeignKey(
        BackupRestore, on_delete=models.CASCADE, related_name="service_instance_restores"
    )
    service_instance_backup = models.ForeignKey(ServiceInstanceBackup, on_delete=models.CASCADE)
    service_instance = models.ForeignKey(ServiceInstance, on_delete=models.CASCADE)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["backup_restore_id", "uuid"]

    def __str__(self):
        return f"restore of {self.service_instance_backup_id} into {self.service_instance_id}"


class BackupSchedule(models.Model):
    """Daily backups of an environment at `hour` (UTC), thinned out by a grandfather-father-son retention."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    environment = models.OneToOneField(Environment, on_delete=models.CASCADE, related_name="backup_schedule")
    enabled = models.BooleanField(default=True)
    hour = models.PositiveSmallIntegerField(default=2, help_text="Hour of the day (UTC) the backup starts.")
    keep_daily = models.PositiveSmallIntegerField(default=7)
    keep_weekly = models.PositiveSmallIntegerField(default=4)
    keep_monthly = models.PositiveSmallIntegerField(default=12)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["environment_id"]

    def __str__(self):
        return f"daily at {self.hour:02d}:00 UTC for {self.environment_id}"
