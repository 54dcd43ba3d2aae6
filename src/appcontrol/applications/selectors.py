"""Querysets of what a request may see; every API view starts from one of these."""

from django.db.models import OuterRef, Subquery

from appcontrol.accounts.models import Membership
from appcontrol.accounts.selectors import visible_organisation_ids

from .models import Application, Domain, Environment, EnvironmentVariable, Region


def regions_visible(request):
    return Region.objects.all()


def applications_visible(request):
    return Application.objects.filter(organisation__in=visible_organisation_ids(request))


def environments_visible(request):
    return Environment.objects.filter(application__organisation__in=visible_organisation_ids(request))


def domains_visible(request):
    return Domain.objects.filter(environment__application__organisation__in=visible_organisation_ids(request))


def environment_variables_visible(request):
    """Variables with the caller's role in their organisation, which decides who sees secret values."""
    caller_role = Membership.objects.filter(
        organisation=OuterRef("environment__application__organisation"), user_id=request.user.pk
    ).values("role")[:1]
    return EnvironmentVariable.objects.filter(
        environment__application__organisation__in=visible_organisation_ids(request)
    ).annotate(caller_role=Subquery(caller_role))
