from django_filters import rest_framework as filters

from appcontrol.core.fields import IdFilter, UtcDateTimeFilter
from appcontrol.core.filtersets import FilterSet
from appcontrol.services.models import ServiceType

from .models import (
    Backup,
    BackupDownloadServiceInstance,
    BackupRestore,
    BackupSchedule,
    BackupState,
    Outcome,
    ServiceInstanceBackup,
    Trigger,
)


class BackupFilterSet(FilterSet):
    environment = IdFilter(field_name="environment_id")
    application = IdFilter(field_name="environment__application_id")
    state = filters.ChoiceFilter(choices=BackupState.choices)
    success = filters.ChoiceFilter(choices=Outcome.choices)
    trigger = filters.ChoiceFilter(choices=Trigger.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Backup
        fields = [
            "environment",
            "application",
            "state",
            "success",
            "trigger",
            "created_after",
            "created_before",
        ]


class ServiceInstanceBackupFilterSet(FilterSet):
    backup = IdFilter(field_name="backup_id")
    service_instance = IdFilter(field_name="service_instance_id")
    environment = IdFilter(field_name="environment_id")
    service_type = filters.ChoiceFilter(choices=ServiceType.choices)

    class Meta:
        model = ServiceInstanceBackup
        fields = ["backup", "service_instance", "environment", "service_type"]


class BackupDownloadServiceInstanceFilterSet(FilterSet):
    # divio-cli filters by `backup` but means the backup *download*; both names are accepted.
    backup = IdFilter(field_name="backup_download_id", help_text="The backup download's id (divio-cli's name).")
    backup_download = IdFilter(field_name="backup_download_id")

    class Meta:
        model = BackupDownloadServiceInstance
        fields = ["backup", "backup_download"]


class BackupRestoreFilterSet(FilterSet):
    backup = IdFilter(field_name="backup_id")
    environment = IdFilter(field_name="backup__environment_id")

    class Meta:
        model = BackupRestore
        fields = ["backup", "environment"]


class BackupScheduleFilterSet(FilterSet):
    environment = IdFilter(field_name="environment_id")
    application = IdFilter(field_name="environment__application_id")

    class Meta:
        model = BackupSchedule
        fields = ["environment", "application", "enabled"]
