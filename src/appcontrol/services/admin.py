from django.contrib import admin

from .models import ServiceInstance


@admin.register(ServiceInstance)
class ServiceInstanceAdmin(admin.ModelAdmin):
    """For looking, not provisioning: creating and deleting instances goes through the API, which does it for
    real (a row added here would have no database behind it)."""

    list_display = ["uuid", "environment", "type", "prefix", "service_status", "started_at", "ended_at"]
    list_filter = ["type", "service_status", "service"]
    search_fields = ["environment__application__slug", "prefix"]
    list_select_related = ["environment__application", "service"]
    # The environment stays the one it was provisioned for: its organisation decides who sees the instance.
    readonly_fields = [
        "environment", "resource", "errors", "service_status", "queued_at", "started_at", "ended_at", "heartbeat_at"
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False
