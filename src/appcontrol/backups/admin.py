from django.contrib import admin

from appcontrol.core.admin_ownership import OwnerFixedOnceCreated

from .models import Backup, BackupRestore, BackupSchedule, ServiceInstanceBackup, ServiceInstanceRestore

JOB_FIELDS = ["queued_at", "started_at", "ended_at", "heartbeat_at"]


class ServiceInstanceBackupInline(admin.TabularInline):
    model = ServiceInstanceBackup
    extra = 0
    can_delete = False
    fields = ["service_instance", "service_type", "taken_at", "size", "sha256", "errors", "ended_at"]
    readonly_fields = fields


@admin.register(Backup)
class BackupAdmin(admin.ModelAdmin):
    """Backups as the API shows them; taking, restoring and deleting them goes through the API, which also
    removes their artifacts."""

    list_display = ["uuid", "environment", "trigger", "state", "success", "created_at", "scheduled_for_deletion_at"]
    list_filter = ["state", "success", "trigger"]
    search_fields = ["environment__application__slug", "notes"]
    list_select_related = ["environment__application"]
    readonly_fields = ["environment", "trigger", "state", "success", "created_by", "created_at", *JOB_FIELDS]
    inlines = [ServiceInstanceBackupInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceInstanceRestoreInline(admin.TabularInline):
    model = ServiceInstanceRestore
    extra = 0
    can_delete = False
    fields = ["service_instance_backup", "service_instance", "started_at", "ended_at", "errors"]
    readonly_fields = fields


@admin.register(BackupRestore)
class BackupRestoreAdmin(admin.ModelAdmin):
    list_display = ["uuid", "backup", "success", "created_at", "ended_at"]
    list_filter = ["success"]
    readonly_fields = ["backup", "success", "created_by", "created_at", *JOB_FIELDS]
    inlines = [ServiceInstanceRestoreInline]

    def has_add_permission(self, request):
        return False


@admin.register(BackupSchedule)
class BackupScheduleAdmin(OwnerFixedOnceCreated, admin.ModelAdmin):
    owner_field = "environment"
    list_display = ["environment", "enabled", "hour", "keep_daily", "keep_weekly", "keep_monthly", "last_run_at"]
    list_filter = ["enabled"]
    list_select_related = ["environment__application"]
