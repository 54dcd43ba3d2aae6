from django.db.models import Prefetch

from appcontrol.accounts.selectors import visible_organisation_ids

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
    return Backup.objects.filter(
        environment__application__organisation__in=visible_organisation_ids(request)
    ).prefetch_related(
        Prefetch("service_instance_backups", queryset=ServiceInstanceBackup.objects.only("uuid", "backup_id"))
    )


def service_instance_backups_visible(request):
    return ServiceInstanceBackup.objects.filter(
        backup__environment__application__organisation__in=visible_organisation_ids(request)
    ).select_related("backup")


def backup_downloads_visible(request):
    return BackupDownload.objects.filter(
        backup__environment__application__organisation__in=visible_organisation_ids(request)
    ).prefetch_related(
        Prefetch("items", queryset=BackupDownloadServiceInstance.objects.only("uuid", "backup_download_id"))
    )


def backup_download_items_visible(request):
    return BackupDownloadServiceInstance.objects.filter(
        backup_download__backup__environment__application__organisation__in=visible_organisation_ids(request)
    ).select_related("service_instance_backup__backup__environment")


def backup_restores_visible(request):
    return BackupRestore.objects.filter(
        backup__environment__application__organisation__in=visible_organisation_ids(request)
    ).prefetch_related(Prefetch("service_instance_restores", queryset=ServiceInstanceRestore.objects.all()))


def backup_schedules_visible(request):
    return BackupSchedule.objects.filter(environment__application__organisation__in=visible_organisation_ids(request))
