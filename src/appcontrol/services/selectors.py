from appcontrol.accounts.selectors import visible

from .engines import available_engines
from .models import Service, ServiceInstance


def services_available(request):
    """The catalogue as this server is configured: an engine without its settings is not offered."""
    return Service.objects.filter(engine__in=available_engines())


def service_instances_visible(request):
    return visible(ServiceInstance.objects, request, "environment__organisation").select_related("service")
