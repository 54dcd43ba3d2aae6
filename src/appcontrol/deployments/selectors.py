"""Querysets of what a request may see."""

from appcontrol.accounts.selectors import visible
from appcontrol.applications.selectors import repositories_visible  # noqa: F401 - the repository API's scope

from .models import Build, Deployment


def builds_visible(request):
    return visible(Build.objects, request, "application__organisation")


def deployments_visible(request):
    return visible(Deployment.objects, request, "application__organisation")
