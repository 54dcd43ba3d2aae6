"""Backup actions: take, upload, download, restore, expire. Views, tasks and commands call these."""

import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appcontrol.accounts.selectors import manages_organisation
from appcontrol.applications.models import Environment
from appcontrol.core.events import publish
from appcontrol.core.exceptions import ActionError, NotAllowed
from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import cancel, enqueue
from appcontrol.core.jobs import log as job_log
from appcontrol.core.sandbox import SandboxError
from appcontrol.core.storage import ArtifactError, artifact_store, local_copy
from appcontrol.services.engines import EngineError, engine_for
from appcontrol.services.models import ServiceInstance, ServiceStatus

from .models import (
    Backup,
    BackupDownload,
    BackupDownloadServiceInstance,
    BackupRestore,
    BackupSchedule,
    BackupState,
    Outcome,
    ServiceInstanceBackup,
    ServiceInstanceRestore,
    Trigger,
    outcome_of,
)

logger = logging.getLogger(__name__)

HEAD_BYTES = 4096


class BackupError(ActionError):
    """Input that cannot be acted on; `field` names the request field at fault, if any."""


class UploadConflict(BackupError):
    """Another upload to the same URL completed first."""


def _instances_for(environment: Environment, instances: list[ServiceInstance] | None) -> list[ServiceInstance]:
    if not instances:
        instances = list(environment.service_instances.select_related("service"))
        if not instances:
            raise BackupError("The environment has no service instances to back up.", "services")
    for instance in instances:
        if instance.environment_id != environment.pk:
            raise BackupError(f"Service instance {encode_id(instance.pk)} is not in this environment.", "services")
        if instance.service_status != ServiceStatus.ATTACHED:
            raise BackupError(
                f"Service instance {encode_id(instance.pk)} is {instance.service_status}, not ATTACHED.",
                "services",
            )
    return instances


def _artifact_name(sib: ServiceInstanceBackup, attempt: str = "") -> str:
    extension = engine_for(sib.engine).artifact_extension
    suffix = f"-{attempt}" if attempt else ""
    return f"{encode_id(sib.backup.environment_id)}/{encode_id(sib.pk)}{suffix}.{extension}"


@transaction.atomic
def backup_create(
    *,
    environment: Environment,
    service_instances: list[ServiceInstance] | None = None,
    notes: str = "",
    scheduled_for_deletion_at: datetime | None = None,
    trigger: str = Trigger.MANUAL,
    user=None,
) -> Backup:
    """Record a backup of the given instances (default: all of the environment's) and queue it."""
    backup = _backup_record(environment, service_instances, trigger, notes, scheduled_for_deletion_at, user)
    enqueue("backup", backup.pk)
    return backup


def _backup_record(environment, service_instances, trigger, notes, scheduled_for_deletion_at, user) -> Backup:
    """The backup row with one queued part per service instance."""
    instances = _instances_for(environment, service_instances)
    backup = Backup.objects.create(
        environment=environment,
        notes=notes,
        trigger=trigger,
        scheduled_for_deletion_at=scheduled_for_deletion_at,
        created_by=user,
    )
    for instance in instances:
        ServiceInstanceBackup.objects.create(
            backup=backup,
            environment=environment,
            service_instance=instance,
            service_type=instance.type,
            engine=instance.service.engine,
        )
    publish("backup.created", backup_id=backup.pk, environment_id=environment.pk, trigger=trigger)
    return backup


def backup_take(*, backup: Backup) -> None:
    """Dump every service instance of the backup into artifact storage, then record the outcome."""
    for sib in backup.service_instance_backups.select_related("service_instance__service", "backup"):
        service_instance_backup_take(sib=sib)
    backup_complete(backup=backup)


def service_instance_backup_take(*, sib: ServiceInstanceBackup) -> None:
    sib.started_at = timezone.now()
    sib.save(update_fields=["started_at"])
    if sib.service_instance is None:
        _record_sib_errors(sib, ["The service instance was deleted before the backup started."])
        return
    name = _artifact_name(sib)
    writer = None
    what = f"{sib.service_type} {sib.service_instance.prefix} ({encode_id(sib.service_instance_id)})"
    job_log(f"Backing up {what} ({sib.engine})")
    try:
        writer = artifact_store().writer(name)
        taken_at = engine_for(sib.engine).dump(sib.service_instance, writer)
        writer.commit()
    except (EngineError, ArtifactError, SandboxError, OSError) as error:
        if writer is not None:
            writer.abort()
        message = f"Could not write the artifact: {error}" if isinstance(error, OSError) else str(error)
        job_log(f"{what} failed: {message}")
        _record_sib_errors(sib, [message])
        return
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    sib.taken_at = taken_at
    sib.size = writer.size
    sib.sha256 = writer.sha256.hexdigest()
    sib.artifact = name
    sib.ended_at = timezone.now()
    sib.save(update_fields=["taken_at", "size", "sha256", "artifact", "ended_at"])
    job_log(f"{what} done: {writer.size} bytes, sha256 {sib.sha256}")


def _record_sib_errors(sib: ServiceInstanceBackup, errors: list[str]) -> None:
    sib.errors = errors
    sib.ended_at = timezone.now()
    sib.save(update_fields=["errors", "ended_at"])


def backup_complete(*, backup: Backup) -> Backup:
    errors = [sib.errors for sib in backup.service_instance_backups.all()]
    backup.state = BackupState.COMPLETED
    backup.success = outcome_of(errors)
    backup.ended_at = timezone.now()
    backup.save(update_fields=["state", "success", "ended_at"])
    publish("backup.completed", backup_id=backup.pk, success=backup.success)
    return backup


def backup_fail(*, backup: Backup, message: str) -> None:
    """Give every unfinished part the error, remove their partial artifacts, and complete the backup."""
    store = artifact_store()
    for sib in backup.service_instance_backups.select_related("backup").filter(ended_at__isnull=True):
        try:
            store.delete(sib.artifact or _artifact_name(sib))
        except OSError:
            logger.exception("Could not remove the partial artifact of %s", sib.pk)
        sib.artifact = ""
        sib.size = None
        sib.sha256 = ""
        sib.save(update_fields=["artifact", "size", "sha256"])
        _record_sib_errors(sib, [message])
    backup_complete(backup=backup)


def backup_delete(*, backup: Backup) -> None:
    """Delete the artifacts first: a row without a file is harmless, a file without a row is a leak."""
    store = artifact_store()
    for sib in backup.service_instance_backups.all():
        if sib.artifact:
            store.delete(sib.artifact)
    publish("backup.deleted", backup_id=backup.pk, environment_id=backup.environment_id)
    backup.delete()


def backups_expire(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    expired = Backup.objects.filter(scheduled_for_deletion_at__lte=now).exclude(state=BackupState.WORKING)
    count = 0
    for backup in expired:
        backup_delete(backup=backup)
        count += 1
    return count


# Downloads ------------------------------------------------------------------------------------


@transaction.atomic
def backup_download_create(
    *, backup: Backup, service_instance_backups: list[ServiceInstanceBackup] | None = None, user=None
) -> BackupDownload:
    sibs = service_instance_backups or list(backup.service_instance_backups.all())
    for sib in sibs:
        if sib.backup_id != backup.pk:
            raise BackupError(
                f"Service-instance backup {encode_id(sib.pk)} is not part of this backup.",
                "service_instance_backups",
            )
    download = BackupDownload.objects.create(backup=backup, created_by=user)
    store = artifact_store()
    now = timezone.now()
    for sib in sibs:
        errors = []
        if not sib.succeeded:
            errors = ["This service-instance backup did not succeed; it has nothing to download."]
        elif not store.exists(sib.artifact):
            errors = ["The artifact of this service-instance backup is missing from storage."]
        BackupDownloadServiceInstance.objects.create(
            backup_download=download, service_instance_backup=sib, errors=errors, ended_at=now
        )
    publish("backup_download.created", download_id=download.pk, backup_id=backup.pk)
    return download


# Uploads --------------------------------------------------------------------------------------


@transaction.atomic
def backup_upload_create(
    *,
    environment: Environment,
    service_instances: list[ServiceInstance],
    notes: str = "",
    scheduled_for_deletion_at: datetime | None = None,
    user=None,
) -> Backup:
    """A backup whose artifacts the client uploads; it completes after `backup_upload_finish`."""
    return _backup_record(environment, service_instances, Trigger.UPLOAD, notes, scheduled_for_deletion_at, user)


def upload_limit() -> int:
    return settings.APPCONTROL_UPLOAD_MAX_BYTES


def service_instance_backup_receive(*, sib: ServiceInstanceBackup, stream, max_bytes: int) -> None:
    """Store an uploaded artifact; refuse it early when its first bytes show the wrong format.

    Each request writes its own artifact; the first to complete is recorded (one conditional update),
    any other is deleted and refused: size and checksum always describe the stored bytes.
    """
    if sib.backup.state != BackupState.WORKING or sib.backup.started_at is not None:
        raise BackupError("This upload is already finished.")
    if sib.artifact:
        raise UploadConflict("A file was already uploaded to this URL.")
    if sib.ended_at is not None:
        raise UploadConflict("A file sent to this URL was refused already; start a new upload.")
    engine = engine_for(sib.engine)
    name = _artifact_name(sib, attempt=secrets.token_hex(4))
    store = artifact_store()
    writer = store.writer(name)
    try:
        head = stream.read(HEAD_BYTES)
        if not head:
            raise BackupError("The upload is empty.")
        engine.check_artifact(head)
        writer.write(head)
        while chunk := stream.read(1024 * 1024):
            writer.write(chunk)
            if writer.size > max_bytes:
                raise BackupError(f"The upload is larger than the limit of {max_bytes} bytes.")
        writer.commit()
    except (EngineError, BackupError) as error:
        writer.abort()
        _upload_part_refuse(sib, str(error))
        raise BackupError(str(error)) from None
    except BaseException:
        writer.abort()
        raise
    sib.artifact, sib.size, sib.sha256, sib.taken_at = name, writer.size, writer.sha256.hexdigest(), timezone.now()
    recorded = ServiceInstanceBackup.objects.filter(
        pk=sib.pk, artifact="", backup__started_at__isnull=True, backup__state=BackupState.WORKING
    ).update(artifact=sib.artifact, size=sib.size, sha256=sib.sha256, taken_at=sib.taken_at)
    if not recorded:
        store.delete(name)
        raise UploadConflict("Another upload to this URL completed first (or the upload was finished meanwhile).")


def _upload_part_refuse(sib: ServiceInstanceBackup, message: str) -> None:
    """A refused file ends its part with the reason; once every part has ended so, the backup is COMPLETED
    with FAILURE — a client that stops after a refusal must not leave it WORKING for ever."""
    _record_sib_errors(sib, [message])
    backup = sib.backup
    if not backup.service_instance_backups.filter(ended_at__isnull=True).exists():
        backup_complete(backup=backup)


def backup_upload_finish(*, backup: Backup) -> None:
    if backup.trigger != Trigger.UPLOAD:
        raise BackupError("This backup was not an upload.")
    enqueue("backup-upload-check", backup.pk)


def backup_upload_check(*, backup: Backup) -> None:
    """Verify each uploaded artifact with its engine before the backup may be restored."""
    store = artifact_store()
    for sib in backup.service_instance_backups.select_related("backup"):
        sib.started_at = timezone.now()
        if not sib.artifact:
            _record_sib_errors(sib, ["Nothing was uploaded for this service instance."])
            continue
        try:
            with local_copy(store, sib.artifact, sib.sha256) as artifact:
                engine_for(sib.engine).verify_artifact(artifact)
        except (EngineError, ArtifactError, SandboxError) as error:
            store.delete(sib.artifact)
            sib.artifact = ""
            sib.save(update_fields=["artifact", "started_at"])
            _record_sib_errors(sib, [str(error)])
            continue
        sib.ended_at = timezone.now()
        sib.save(update_fields=["started_at", "ended_at"])
    backup_complete(backup=backup)


# Restores -------------------------------------------------------------------------------------


@transaction.atomic
def backup_restore_create(
    *,
    backup: Backup,
    items: list[tuple[ServiceInstanceBackup, ServiceInstance | None]],
    notes: str = "",
    user=None,
    after_provisioning: bool = False,
) -> BackupRestore:
    """Queue restores of the backup's artifacts into their own instances or compatible ones of another
    environment of the backup's organisation; restoring into live needs the owner or admin role (`user`
    None is the operator's own code, e.g. a command). `after_provisioning`: the targets are being
    provisioned, and the restore is queued when they are (subscribers.restores_waiting_for)."""
    if not items:
        raise BackupError("Name at least one service-instance backup to restore.", "service_instance_restores")
    parts = backup.service_instance_backups.count()
    if len(items) > parts:
        raise BackupError(
            f"The backup has {parts} part(s); a restore names each at most once.", "service_instance_restores"
        )
    plan, seen_parts, seen_targets = [], set(), set()
    for sib, target in items:
        if sib.backup_id != backup.pk:
            raise BackupError(
                f"Service-instance backup {encode_id(sib.pk)} is not part of this backup.",
                "service_instance_restores",
            )
        if not sib.succeeded:
            raise BackupError(
                f"Service-instance backup {encode_id(sib.pk)} did not succeed and cannot be restored.",
                "service_instance_restores",
            )
        target = target or sib.service_instance
        if target is None:
            raise BackupError(
                "The backed-up service instance no longer exists; name a target service_instance.",
                "service_instance_restores",
            )
        organisation_id = backup.organisation_id
        if target.environment.organisation_id != organisation_id:
            raise BackupError("The target must be in the backup's organisation.", "service_instance_restores")
        if target.environment.slug == "live" and user is not None and not manages_organisation(user, organisation_id):
            raise NotAllowed("Only an owner or admin of the organisation may restore into live.")
        if target.service.engine != sib.engine:
            raise BackupError(
                f"A {sib.engine} backup cannot be restored into a {target.service.engine} service instance.",
                "service_instance_restores",
            )
        waiting = after_provisioning and target.service_status in (ServiceStatus.NEW, ServiceStatus.PROVISIONING)
        if target.service_status != ServiceStatus.ATTACHED and not waiting:
            raise BackupError(
                f"Service instance {encode_id(target.pk)} is {target.service_status}, not ATTACHED.",
                "service_instance_restores",
            )
        if sib.pk in seen_parts or target.pk in seen_targets:
            raise BackupError(
                "Each service-instance backup and each target may appear only once in a restore.",
                "service_instance_restores",
            )
        seen_parts.add(sib.pk)
        seen_targets.add(target.pk)
        plan.append((sib, target))
    waits = any(target.service_status != ServiceStatus.ATTACHED for _, target in plan)
    restore = BackupRestore.objects.create(backup=backup, notes=notes, created_by=user, waits_for_provisioning=waits)
    for sib, target in plan:
        ServiceInstanceRestore.objects.create(
            backup_restore=restore, service_instance_backup=sib, service_instance=target
        )
    if not waits:
        enqueue("backup-restore", restore.pk)
    publish("restore.created", restore_id=restore.pk, backup_id=backup.pk)
    return restore


def backup_restore_run(*, restore: BackupRestore) -> None:
    store = artifact_store()
    items = restore.service_instance_restores.select_related("service_instance_backup", "service_instance__service")
    for item in items:
        item.started_at = timezone.now()
        item.save(update_fields=["started_at"])
        sib = item.service_instance_backup
        target = f"{item.service_instance.type} {item.service_instance.prefix} ({encode_id(item.service_instance_id)})"
        job_log(f"Restoring {encode_id(sib.pk)} into {target}")
        try:
            with local_copy(store, sib.artifact, sib.sha256) as artifact:
                engine_for(sib.engine).restore(item.service_instance, artifact)
        except (EngineError, ArtifactError, SandboxError) as error:
            item.errors = [str(error)]
        job_log(f"{target} failed: {item.errors[0]}" if item.errors else f"{target} restored")
        item.ended_at = timezone.now()
        item.save(update_fields=["errors", "ended_at"])
    backup_restore_complete(restore=restore)


def backup_restore_complete(*, restore: BackupRestore) -> None:
    restore.success = outcome_of([item.errors for item in restore.service_instance_restores.all()])
    restore.ended_at = timezone.now()
    restore.save(update_fields=["success", "ended_at"])
    publish("restore.completed", restore_id=restore.pk, success=restore.success)


def backup_restore_fail(*, restore: BackupRestore, message: str) -> None:
    """Give every unfinished item the error and remove what its interrupted restore left behind."""
    unfinished = restore.service_instance_restores.filter(ended_at__isnull=True).select_related(
        "service_instance__service"
    )
    for item in unfinished:
        try:
            engine_for(item.service_instance.service.engine).discard_partial_restore(item.service_instance)
        except Exception:  # noqa: BLE001 - failing the restore must not depend on its cleanup
            logger.exception("Could not remove what the restore %s left behind", item.pk)
        item.errors = [message]
        item.ended_at = timezone.now()
        item.save(update_fields=["errors", "ended_at"])
    backup_restore_complete(restore=restore)


def job_cancel(*, runner: str, obj) -> None:
    """Cancel a backup or restore job; one that already ended cannot be."""
    if not cancel(runner, obj):
        raise BackupError("This job has already ended; there is nothing to cancel.", status=409)


# Schedules ------------------------------------------------------------------------------------


def backup_schedule_save(*, environment, schedule: BackupSchedule | None, changes: dict, user) -> BackupSchedule:
    """Create or change a schedule. Retention deletes backups, so changing `keep_*` of live needs the owner or
    admin role, as deleting a backup does."""
    retention = {name: value for name, value in changes.items() if name.startswith("keep_")}
    if schedule is not None:
        retention = {name: value for name, value in retention.items() if getattr(schedule, name) != value}
    if retention and environment.slug == "live" and user is not None:
        if not manages_organisation(user, environment.organisation_id):
            raise NotAllowed("Only an owner or admin of the organisation may change the retention of live.")
    schedule = schedule or BackupSchedule(environment=environment)
    for name, value in changes.items():
        if name != "environment":
            setattr(schedule, name, value)
    schedule.save()
    publish("backup_schedule.saved", schedule_id=schedule.pk, environment_id=environment.pk)
    return schedule


__all__ = ["BackupError", "Outcome"]
