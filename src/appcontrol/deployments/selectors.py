"""Querysets of what a request may see."""

from appcontrol.accounts.selectors import visible
from appcontrol.applications.selectors import environments_visible, repositories_visible  # noqa: F401 - API scopes

from .models import Build, Deployment


def builds_visible(request):
    return visible(Build.objects, request, "application__organisation")


def deployments_visible(request):
    return visible(Deployment.objects, request, "application__organisation")
