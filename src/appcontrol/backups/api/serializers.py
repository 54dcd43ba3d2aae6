from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from appcontrol.applications.models import Environment
from appcontrol.applications.selectors import environments_visible
from appcontrol.core.fields import MAX_LIST_ITEMS, IdField, RelatedIdField
from appcontrol.core.ids import encode_id
from appcontrol.core.links import link_token
from appcontrol.services.selectors import service_instances_visible

from ..models import (
    Backup,
    BackupDownload,
    BackupDownloadServiceInstance,
    BackupRestore,
    BackupSchedule,
    ServiceInstanceBackup,
    ServiceInstanceRestore,
    Trigger,
)
from ..schedules import schedule_next_run
from ..selectors import backups_visible, service_instance_backups_visible

LOG_HELP = "What the job did, a line each (`<UTC time> <message>`); the newest 1000 lines."


class BackupSerializer(serializers.ModelSerializer):
    uuid = IdField()
    log = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=LOG_HELP)
    environment = RelatedIdField(read_only=True)
    service_instance_backups = RelatedIdField(many=True, read_only=True)

    class Meta:
        model = Backup
        fields = [
            "uuid", "environment", "trigger", "notes", "state", "success", "service_instance_backups",
            "scheduled_for_deletion_at", "created_at", "started_at", "ended_at", "log",
        ]  # fmt: skip
        read_only_fields = fields


class BackupCreateSerializer(BackupSerializer):
    environment = RelatedIdField(scope=environments_visible)
    services = RelatedIdField(
        scope=service_instances_visible,
        many=True,
        required=False,
        write_only=True,
        help_text="Service instances to back up; default: all of the environment's.",
    )
    trigger = serializers.ChoiceField(choices=[Trigger.MANUAL], default=Trigger.MANUAL)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    scheduled_for_deletion_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the backup and its artifacts are deleted."
    )

    class Meta(BackupSerializer.Meta):
        fields = [*BackupSerializer.Meta.fields, "services"]
        read_only_fields = ["uuid", "state", "success", "created_at", "started_at", "ended_at"]


class BackupUploadSerializer(serializers.Serializer):
    environment = RelatedIdField(scope=environments_visible)
    services = RelatedIdField(scope=service_instances_visible, many=True, allow_empty=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    scheduled_for_deletion_at = serializers.DateTimeField(required=False, allow_null=True)


class UploadParametersSerializer(serializers.Serializer):
    url = serializers.URLField()
    http_method = serializers.CharField()
    max_file_size = serializers.IntegerField()


class UploadTargetSerializer(serializers.Serializer):
    handler = serializers.CharField(help_text="Always `exo-presigned-v1`: PUT the file to `upload_parameters.url`.")
    upload_parameters = UploadParametersSerializer()
    finish_url = serializers.URLField(help_text="POST here (no token needed) once every file is uploaded.")


class BackupUploadResponseSerializer(serializers.Serializer):
    uuid = IdField()
    results = serializers.DictField(child=UploadTargetSerializer(), help_text="Per service-instance id.")


class ServiceInstanceBackupSerializer(serializers.ModelSerializer):
    uuid = IdField()
    backup = RelatedIdField(read_only=True)
    service_instance = RelatedIdField(read_only=True, allow_null=True)
    environment = serializers.SerializerMethodField()
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ServiceInstanceBackup
        fields = [
            "uuid", "backup", "service_instance", "environment", "service_type", "queued_at", "started_at",
            "ended_at", "taken_at", "size", "sha256", "errors",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(IdField())
    def get_environment(self, sib):
        return encode_id(sib.environment_id)


def _absolute(request, name: str, token: str) -> str:
    return request.build_absolute_uri(reverse(name, kwargs={"token": token}))


class BackupDownloadSerializer(serializers.ModelSerializer):
    uuid = IdField()
    backup = RelatedIdField(scope=backups_visible)
    service_instance_backups = RelatedIdField(
        scope=service_instance_backups_visible, many=True, required=False, write_only=True,
        help_text="Which parts to download; default: all of the backup's.",
    )  # fmt: skip
    trigger = serializers.CharField(required=False, default="PULL", max_length=16)
    items = RelatedIdField(many=True, read_only=True, help_text="The backup-download-service-instances.")

    class Meta:
        model = BackupDownload
        fields = ["uuid", "backup", "service_instance_backups", "trigger", "items", "created_at"]
        read_only_fields = ["created_at"]


class BackupDownloadServiceInstanceSerializer(serializers.ModelSerializer):
    uuid = IdField()
    backup_download = RelatedIdField(read_only=True)
    service_instance_backup = RelatedIdField(read_only=True)
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)
    size = serializers.IntegerField(source="service_instance_backup.size", read_only=True, allow_null=True)
    sha256 = serializers.CharField(source="service_instance_backup.sha256", read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="A signed link that works without a token until it expires; null when there is nothing to get."
    )

    class Meta:
        model = BackupDownloadServiceInstance
        fields = [
            "uuid", "backup_download", "service_instance_backup", "created_at", "ended_at", "errors", "size",
            "sha256", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, item):
        if item.errors or item.ended_at is None:
            return None
        token = link_token("download", {"item": encode_id(item.pk)})
        return _absolute(self.context["request"], "api:artifact-download", token)


class ServiceInstanceRestoreSerializer(serializers.ModelSerializer):
    uuid = IdField()
    service_instance_backup = RelatedIdField(scope=service_instance_backups_visible)
    service_instance = RelatedIdField(
        scope=service_instances_visible,
        required=False,
        help_text="Where to restore; default: the instance the backup was taken of. Must use the same engine.",
    )
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ServiceInstanceRestore
        fields = ["uuid", "service_instance_backup", "service_instance", "started_at", "ended_at", "errors"]
        read_only_fields = ["started_at", "ended_at"]


class BackupRestoreSerializer(serializers.ModelSerializer):
    uuid = IdField()
    backup = RelatedIdField(scope=backups_visible)
    service_instance_restores = ServiceInstanceRestoreSerializer(
        many=True, allow_empty=False, max_length=MAX_LIST_ITEMS
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    finished = serializers.BooleanField(read_only=True)
    log = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=LOG_HELP)

    class Meta:
        model = BackupRestore
        fields = [
            "uuid", "backup", "service_instance_restores", "notes", "finished", "success", "created_at",
            "started_at", "ended_at", "log",
        ]  # fmt: skip
        read_only_fields = ["success", "created_at", "started_at", "ended_at"]


class BackupScheduleSerializer(serializers.ModelSerializer):
    uuid = IdField()
    environment = RelatedIdField(read_only=True)
    next_run_at = serializers.SerializerMethodField(
        help_text="When the next scheduled backup starts (null while disabled): the first `hour` o'clock (UTC) "
        "after the last run, or after the schedule was created."
    )
    hour = serializers.IntegerField(min_value=0, max_value=23, required=False)
    keep_daily = serializers.IntegerField(min_value=0, max_value=366, required=False)
    keep_weekly = serializers.IntegerField(min_value=0, max_value=520, required=False)
    keep_monthly = serializers.IntegerField(min_value=0, max_value=1200, required=False)

    class Meta:
        model = BackupSchedule
        fields = [
            "uuid", "environment", "enabled", "hour", "keep_daily", "keep_weekly", "keep_monthly", "last_run_at",
            "next_run_at", "created_at",
        ]  # fmt: skip
        read_only_fields = ["last_run_at", "created_at"]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_run_at(self, schedule):
        if not schedule.enabled:
            return None
        return serializers.DateTimeField().to_representation(schedule_next_run(schedule))


class BackupScheduleCreateSerializer(BackupScheduleSerializer):
    environment = RelatedIdField(
        scope=environments_visible,
        validators=[UniqueValidator(BackupSchedule.objects.all(), message="This environment already has a schedule.")],
    )


class EnvironmentCopySerializer(serializers.Serializer):
    new_slug = serializers.CharField(
        max_length=63,
        validators=Environment._meta.get_field("slug").validators,
        help_text="The new environment's slug (lower-case letters, digits and hyphens).",
    )
    copy_data = serializers.BooleanField(
        default=False, help_text="Fill the new service instances from the source's latest successful backup."
    )

    def validate_new_slug(self, value):
        source = self.context.get("source")
        if source and Environment.objects.filter(application_id=source.application_id, slug=value).exists():
            raise serializers.ValidationError("This application already has an environment with this slug.")
        return value
