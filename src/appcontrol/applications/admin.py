from django.contrib import admin

from appcontrol.core.admin_ownership import OwnerFixedOnceCreated

from .models import Application, Domain, Environment, Region


class EnvironmentInline(admin.TabularInline):
    model = Environment
    extra = 0


@admin.register(Application)
class ApplicationAdmin(OwnerFixedOnceCreated, admin.ModelAdmin):
    owner_field = "organisation"
    list_display = ["slug", "name", "organisation", "region", "created_at"]
    list_filter = ["organisation", "region"]
    search_fields = ["slug", "name"]
    inlines = [EnvironmentInline]


@admin.register(Environment)
class EnvironmentAdmin(OwnerFixedOnceCreated, admin.ModelAdmin):
    owner_field = "application"
    list_display = ["slug", "application", "branch", "created_at"]
    list_filter = ["slug", "application__organisation"]
    search_fields = ["application__slug", "branch"]
    list_select_related = ["application"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]


@admin.register(Domain)
class DomainAdmin(OwnerFixedOnceCreated, admin.ModelAdmin):
    owner_field = "environment"
    list_display = ["domain", "environment", "is_primary"]
    search_fields = ["domain"]
