from appcontrol.core.jobs import JobRunner

from . import services
from .models import Backup, BackupRestore


def instance_key(instance_id) -> str:
    """One job at a time per service instance: its backups and restores queue instead of colliding."""
    return f"service-instance:{instance_id}"


class BackupRunner(JobRunner):
    name = "backup"
    model = Backup

    def run(self, backup):
        services.backup_take(backup=backup)

    def record_failure(self, backup, message):
        services.backup_fail(backup=backup, message=message)

    def concurrency_keys(self, backup):
        instances = backup.service_instance_backups.exclude(service_instance=None).values_list(
            "service_instance_id", flat=True
        )
        return [instance_key(pk) for pk in instances]


class UploadCheckRunner(BackupRunner):
    """Checks uploaded artifacts instead of taking them; fails the same way. It reads artifacts only, so it
    waits for no instance."""

    name = "backup-upload-check"

    def run(self, backup):
        services.backup_upload_check(backup=backup)

    def concurrency_keys(self, backup):
        return []


class RestoreRunner(JobRunner):
    name = "backup-restore"
    model = BackupRestore

    def run(self, restore):
        services.backup_restore_run(restore=restore)

    def record_failure(self, restore, message):
        services.backup_restore_fail(restore=restore, message=message)

    def concurrency_keys(self, restore):
        targets = restore.service_instance_restores.values_list("service_instance_id", flat=True)
        return [instance_key(pk) for pk in targets]
