from django_filters import rest_framework as filters

from appcontrol.core.fields import IdFilter, IdListFilter
from appcontrol.core.filtersets import FilterSet

from .models import Service, ServiceInstance, ServiceType


class ServiceFilterSet(FilterSet):
    # Every service is offered in every region and to every application; the filters are accepted
    # (divio-cli sends them) and only checked for well-formed ids.
    region = IdFilter(method="accept_any", help_text="A region id; all services run in every region.")
    website = IdFilter(method="accept_any", help_text="An application id (divio-cli's name for it).")
    type = filters.ChoiceFilter(choices=ServiceType.choices)

    class Meta:
        model = Service
        fields = ["region", "website", "type", "identifier"]

    def accept_any(self, queryset, name, value):
        return queryset


class ServiceInstanceFilterSet(FilterSet):
    environment = IdListFilter(field_name="environment_id", help_text="May repeat.")
    application = IdFilter(field_name="environment__application_id")
    service = IdFilter(field_name="service_id")
    type = filters.ChoiceFilter(choices=ServiceType.choices)

    class Meta:
        model = ServiceInstance
        fields = ["environment", "application", "service", "type", "prefix", "service_status"]
