from appcontrol.core.jobs import JobRunner

from . import services
from .models import Backup, BackupRestore


class BackupRunner(JobRunner):
    name = "backup"
    model = Backup

    def run(self, backup):
        services.backup_take(backup=backup)

    def record_failure(self, backup, message):
        services.backup_fail(backup=backup, message=message)


class UploadCheckRunner(BackupRunner):
    """Checks uploaded artifacts instead of taking them; fails the same way."""

    name = "backup-upload-check"

    def run(self, backup):
        services.backup_upload_check(backup=backup)


class RestoreRunner(JobRunner):
    name = "backup-restore"
    model = BackupRestore

    def run(self, restore):
        services.backup_restore_run(restore=restore)

    def record_failure(self, restore, message):
        services.backup_restore_fail(restore=restore, message=message)
