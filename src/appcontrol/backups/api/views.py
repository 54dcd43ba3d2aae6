from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from appcontrol.accounts.permissions import CanManageOrganisationObject
from appcontrol.applications.api.serializers import EnvironmentSerializer
from appcontrol.applications.selectors import environments_visible
from appcontrol.core.ids import encode_id
from appcontrol.core.links import link_token
from appcontrol.core.schema import operation_ids
from appcontrol.core.viewsets import ApiModelViewSet, ApiViewSet

from .. import services
from ..copies import environment_copy
from ..filtersets import (
    BackupDownloadServiceInstanceFilterSet,
    BackupFilterSet,
    BackupRestoreFilterSet,
    BackupScheduleFilterSet,
    ServiceInstanceBackupFilterSet,
)
from ..selectors import (
    backup_download_items_visible,
    backup_downloads_visible,
    backup_restores_visible,
    backup_schedules_visible,
    backups_visible,
    service_instance_backups_visible,
)
from .serializers import (
    BackupCreateSerializer,
    BackupDownloadSerializer,
    BackupDownloadServiceInstanceSerializer,
    BackupRestoreSerializer,
    BackupScheduleCreateSerializer,
    BackupScheduleSerializer,
    BackupSerializer,
    BackupUploadResponseSerializer,
    BackupUploadSerializer,
    EnvironmentCopySerializer,
    ServiceInstanceBackupSerializer,
)


@extend_schema_view(**operation_ids("Backup", "Backups", ["list", "retrieve", "create", "destroy"]))
class BackupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Backups of environments, newest first. Creating one answers at once with `state: WORKING`; it ends
    `COMPLETED` with `success` SUCCESS, PARTIAL or FAILURE. Filter by environment or application instead of
    scanning pages. Deleting one (and its artifacts) needs the owner or admin role."""

    serializer_class = BackupSerializer
    filterset_class = BackupFilterSet
    permission_classes = [*ApiViewSet.permission_classes, CanManageOrganisationObject]
    managing_actions = {"destroy"}

    def get_serializer_class(self):
        return BackupCreateSerializer if self.action == "create" else BackupSerializer

    def get_queryset(self):
        if self.action == "list":
            return backups_visible(self.request)  # rows name their environment by id: no join to show it
        return backups_visible(self.request).select_related("environment__application")

    def get_organisation_id(self, backup):
        return backup.organisation_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.backup_create(
            environment=data["environment"],
            service_instances=data.get("services"),
            notes=data.get("notes", ""),
            scheduled_for_deletion_at=data.get("scheduled_for_deletion_at"),
            trigger=data["trigger"],
            user=self.request.user,
        )

    def perform_destroy(self, backup):
        services.backup_delete(backup=backup)

    @extend_schema(
        operation_id="CreateBackupUpload",
        request=BackupUploadSerializer,
        responses={201: BackupUploadResponseSerializer},
        description=(
            "Start a backup from files you upload: PUT each file to its `upload_parameters.url`, then POST the "
            "`finish_url`. The backup completes once the files are checked."
        ),
    )
    @action(detail=False, methods=["post"], url_path="upload")
    def upload(self, request):
        serializer = BackupUploadSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        backup = services.backup_upload_create(
            environment=data["environment"],
            service_instances=data["services"],
            notes=data["notes"],
            scheduled_for_deletion_at=data.get("scheduled_for_deletion_at"),
            user=request.user,
        )
        finish = link_token("upload-finish", {"backup": encode_id(backup.pk)})
        finish_url = request.build_absolute_uri(reverse("api:artifact-upload-finish", kwargs={"token": finish}))
        results = {}
        for sib in backup.service_instance_backups.all():
            token = link_token("upload", {"sib": encode_id(sib.pk)})
            results[encode_id(sib.service_instance_id)] = {
                "handler": "exo-presigned-v1",
                "upload_parameters": {
                    "url": request.build_absolute_uri(reverse("api:artifact-upload", kwargs={"token": token})),
                    "http_method": "PUT",
                    "max_file_size": services.upload_limit(),
                },
                "finish_url": finish_url,
            }
        body = BackupUploadResponseSerializer({"uuid": backup.pk, "results": results}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="CancelBackup", request=None, responses={202: BackupSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        """Stop a backup that is queued or running: it ends FAILURE, "The job was cancelled."; 409 once it ended."""
        backup = self.get_object()
        services.job_cancel(runner="backup", obj=backup)
        backup.refresh_from_db()
        return Response(BackupSerializer(backup, context=self.get_serializer_context()).data, status=202)


@extend_schema_view(**operation_ids("ServiceInstanceBackup", "ServiceInstanceBackups", ["list", "retrieve"]))
class ServiceInstanceBackupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The parts of backups, one per service instance, with `taken_at`, `size`, `sha256` and `errors`.
    Filter by `backup`, `service_instance`, `environment` or `service_type`."""

    serializer_class = ServiceInstanceBackupSerializer
    filterset_class = ServiceInstanceBackupFilterSet

    def get_queryset(self):
        return service_instance_backups_visible(self.request)


@extend_schema_view(**operation_ids("BackupDownload", "BackupDownloads", ["list", "retrieve", "create"]))
class BackupDownloadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet):
    """Requests to download backup artifacts; each part gets a signed, expiring `download_url`."""

    serializer_class = BackupDownloadSerializer

    def get_queryset(self):
        return backup_downloads_visible(self.request)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.backup_download_create(
            backup=data["backup"],
            service_instance_backups=data.get("service_instance_backups"),
            user=self.request.user,
        )


@extend_schema_view(
    **operation_ids("BackupDownloadServiceInstance", "BackupDownloadServiceInstances", ["list", "retrieve"])
)
class BackupDownloadServiceInstanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """One downloadable artifact of a backup download; `download_url` needs no token (ignore it for logs)."""

    serializer_class = BackupDownloadServiceInstanceSerializer
    filterset_class = BackupDownloadServiceInstanceFilterSet

    def get_queryset(self):
        return backup_download_items_visible(self.request)


@extend_schema_view(**operation_ids("BackupRestore", "BackupRestores", ["list", "retrieve", "create"]))
class BackupRestoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet):
    """Restores of backup parts into their own service instance or into a compatible one of another
    environment of the same organisation (e.g. live into test). Restoring into `live` needs the owner or admin
    role. A request names each part and each target at most once. The artifact runs with the target's own
    rights only (a PostgreSQL restore as the instance's role; psql commands in SQL are refused). A failed,
    timed-out or interrupted restore leaves the target as it was and says why in `errors`; restores and
    backups of one service instance run one after the other."""

    serializer_class = BackupRestoreSerializer
    filterset_class = BackupRestoreFilterSet

    def get_queryset(self):
        return backup_restores_visible(self.request)

    @extend_schema(operation_id="CancelBackupRestore", request=None, responses={202: BackupRestoreSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        """Stop a restore that is queued or running: the target is left as it was; 409 once it ended."""
        restore = self.get_object()
        services.job_cancel(runner="backup-restore", obj=restore)
        restore.refresh_from_db()
        return Response(self.get_serializer(restore).data, status=202)

    def perform_create(self, serializer):
        data = serializer.validated_data
        items = [
            (item["service_instance_backup"], item.get("service_instance"))
            for item in data["service_instance_restores"]
        ]
        serializer.instance = services.backup_restore_create(
            backup=data["backup"], items=items, notes=data["notes"], user=self.request.user
        )


@extend_schema_view(
    **operation_ids(
        "BackupSchedule", "BackupSchedules", ["list", "retrieve", "create", "update", "partial_update", "destroy"]
    )
)
class BackupScheduleViewSet(ApiModelViewSet):
    """Daily backups per environment (created with an environment's first service instance) and their
    retention: the newest successful scheduled backup of each of the last `keep_daily` days, `keep_weekly`
    weeks and `keep_monthly` months is kept; older scheduled backups are deleted. Disable with
    `enabled: false`. Retention deletes backups, so setting `keep_*` of a `live` schedule needs the owner or
    admin role, as deleting a schedule or a backup does."""

    serializer_class = BackupScheduleSerializer
    create_serializer_class = BackupScheduleCreateSerializer
    filterset_class = BackupScheduleFilterSet
    permission_classes = [*ApiViewSet.permission_classes, CanManageOrganisationObject]
    managing_actions = {"destroy"}

    def get_queryset(self):
        return backup_schedules_visible(self.request).select_related("environment__application")

    def get_organisation_id(self, schedule):
        return schedule.environment.organisation_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.backup_schedule_save(
            environment=data["environment"], schedule=None, changes=data, user=self.request.user
        )

    def perform_update(self, serializer):
        schedule = serializer.instance
        serializer.instance = services.backup_schedule_save(
            environment=schedule.environment, schedule=schedule, changes=serializer.validated_data,
            user=self.request.user,
        )  # fmt: skip


class EnvironmentCopyViewSet(ApiViewSet):
    """Copies of environments (`environments/{uuid}/copy/`; the environments themselves belong to the
    applications API)."""

    serializer_class = EnvironmentCopySerializer

    def get_queryset(self):
        return environments_visible(self.request).select_related("application__organisation")

    @extend_schema(
        operation_id="CopyEnvironment", request=EnvironmentCopySerializer, responses={201: EnvironmentSerializer}
    )
    @action(detail=True, methods=["post"])
    def copy(self, request, uuid=None):
        """A new environment of the same application with this one's branch and variables (not its
        SECRET_KEY nor its domains) and a service instance for each of its own, provisioned empty. With
        `copy_data`, the new instances are then filled from this environment's latest successful backup
        (a backup restore you can follow). 400 `non_field_errors` at the organisation's environment limit."""
        source = self.get_object()
        serializer = EnvironmentCopySerializer(data=request.data, context={"source": source})
        serializer.is_valid(raise_exception=True)
        copied = environment_copy(
            source=source,
            new_slug=serializer.validated_data["new_slug"],
            copy_data=serializer.validated_data["copy_data"],
            user=request.user,
        )
        body = EnvironmentSerializer(copied, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)
