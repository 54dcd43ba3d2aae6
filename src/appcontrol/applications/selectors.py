"""Querysets of what a request may see; every API view starts from one of these."""

from django.db.models import OuterRef, Subquery

from appcontrol.accounts.models import Membership
from appcontrol.accounts.selectors import visible

from .models import (
    Application,
    AppTemplate,
    Domain,
    Environment,
    EnvironmentVariable,
    LegacyApplicationId,
    PlanGroup,
    Region,
    Repository,
)


def regions_visible(request):
    return Region.objects.all()


def plan_groups_visible(request):
    """Every organisation may use every plan group: the operator's offer is the same for all."""
    return PlanGroup.objects.prefetch_related("regions")


def app_templates_visible(request):
    return AppTemplate.objects.all()


def legacy_ids_visible(request):
    return visible(LegacyApplicationId.objects, request, "application__organisation").select_related("application")


def repositories_visible(request):
    return visible(Repository.objects, request, "organisation")


def applications_visible(request):
    return visible(Application.objects, request, "organisation")


def environments_visible(request):
    return visible(Environment.objects, request, "organisation")


def domains_visible(request):
    return visible(Domain.objects, request, "environment__organisation")


def environment_variables_visible(request):
    """Variables with the caller's role in their organisation, which decides who sees secret values."""
    caller_role = Membership.objects.filter(
        organisation=OuterRef("environment__organisation"), user_id=request.user.pk
    ).values("role")[:1]
    return visible(EnvironmentVariable.objects, request, "environment__organisation").annotate(
        caller_role=Subquery(caller_role)
    )
