from django.contrib import admin

from .models import Application, Domain, Environment, Region


class EnvironmentInline(admin.TabularInline):
    model = Environment
    extra = 0


class OwnerFixedOnceCreated:
    """The owner an object was created under stays: rows below it carry its organisation (accounts.ownership)."""

    owner_field: str

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, self.owner_field] if obj is not None else fields


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
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "environment", "is_primary"]
    search_fields = ["domain"]
