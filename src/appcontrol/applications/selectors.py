"""Querysets of what a request may see; every API view starts from one of these."""

from appcontrol.accounts.selectors import visible_organisation_ids

from .models import Application, Domain, Environment, Region


def regions_visible(request):
    return Region.objects.all()


def applications_visible(request):
    return Application.objects.filter(organisation__in=visible_organisation_ids(request))


def environments_visible(request):
    return Environment.objects.filter(application__organisation__in=visible_organisation_ids(request))


def domains_visible(request):
    return Domain.objects.filter(environment__application__organisation__in=visible_organisation_ids(request))
