from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import AdminLoginForm
from .models import AccessToken, Membership, Organisation, User

# The admin's login goes through the same throttle as the login page, with the same messages.
admin.site.login_form = AdminLoginForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_api_only", "is_staff", "is_active"]
    list_filter = ["is_api_only", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "timezone", "is_api_only"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "rate_limit", "environment_limit", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Operators can see and revoke tokens; the digest is never shown and tokens are never created here."""

    list_display = [
        "prefix",
        "user",
        "name",
        "organisation",
        "read_only",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["read_only"]
    search_fields = ["prefix", "user__email", "name"]
    exclude = ["digest"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
