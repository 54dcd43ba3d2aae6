from .views import (
    BackupDownloadServiceInstanceViewSet,
    BackupDownloadViewSet,
    BackupRestoreViewSet,
    BackupScheduleViewSet,
    BackupViewSet,
    EnvironmentCopyViewSet,
    ServiceInstanceBackupViewSet,
)


def register(router) -> None:
    router.register("backups", BackupViewSet, basename="backup")
    router.register("service-instance-backups", ServiceInstanceBackupViewSet, basename="service-instance-backup")
    router.register("backup-downloads", BackupDownloadViewSet, basename="backup-download")
    router.register(
        "backup-download-service-instances",
        BackupDownloadServiceInstanceViewSet,
        basename="backup-download-service-instance",
    )
    router.register("backup-restores", BackupRestoreViewSet, basename="backup-restore")
    router.register("backup-schedules", BackupScheduleViewSet, basename="backup-schedule")
    # Only `environments/{uuid}/copy/`: the environments themselves belong to the applications API.
    router.register("environments", EnvironmentCopyViewSet, basename="environment-copy")
