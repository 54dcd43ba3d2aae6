from rest_framework import permissions

from .selectors import manages_organisation


class TokenAllowsMethod(permissions.BasePermission):
    """A read-only token may only use safe methods."""

    message = "This token is read-only."

    def has_permission(self, request, view):
        token = request.auth
        if token is None or not getattr(token, "read_only", False):
            return True
        return request.method in permissions.SAFE_METHODS


class CanManageOrganisationObject(permissions.BasePermission):
    """Destructive actions need the owner or admin role in the object's organisation.

    The view names its destructive actions in `managing_actions` and finds an object's
    organisation with `get_organisation_id(obj)`.
    """

    message = "Only an owner or admin of the organisation may do this."

    def has_object_permission(self, request, view, obj):
        if view.action not in getattr(view, "managing_actions", ()):
            return True
        return manages_organisation(request.user, view.get_organisation_id(obj))
