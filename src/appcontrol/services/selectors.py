from appcontrol.accounts.selectors import visible_organisation_ids

from .engines import available_engines
from .models import Service, ServiceInstance


def services_available(request):
    """The catalogue as this server is configured: an engine without its settings is not offered."""
    return Service.objects.filter(engine__in=available_engines())


def service_instances_visible(request):
    return ServiceInstance.objects.filter(
        environment__application__organisation__in=visible_organisation_ids(request)
    ).select_related("service")
