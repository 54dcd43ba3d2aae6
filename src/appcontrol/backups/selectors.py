from django.db.models import Prefetch

from appcontrol.accounts.selectors import visible
from appcontrol.core.sql_compiler import ids_along

from .models import (
    Backup,
    BackupDownload,
    BackupDownloadServiceInstance,
    BackupRestore,
    BackupSchedule,
    ServiceInstanceBackup,
    ServiceInstanceRestore,
)


def backups_visible(request):
    backups = visible(Backup.objects, request, "organisation")
    return ids_along(backups, "service_instance_backups")


def service_instance_backups_visible(request):
    return visible(ServiceInstanceBackup.objects, request, "organisation")


def backup_downloads_visible(request):
    downloads = visible(BackupDownload.objects, request, "backup__organisation")
    return ids_along(downloads, "items")


def backup_download_items_visible(request):
    return visible(
        BackupDownloadServiceInstance.objects,
        request,
        "backup_download__backup__organisation",
    ).select_related("service_instance_backup__backup__environment")


def backup_restores_visible(request):
    return visible(BackupRestore.objects, request, "backup__organisation").prefetch_related(
        Prefetch("service_instance_restores", queryset=ServiceInstanceRestore.objects.all())
    )


def backup_schedules_visible(request):
    return visible(BackupSchedule.objects, request, "environment__organisation")
