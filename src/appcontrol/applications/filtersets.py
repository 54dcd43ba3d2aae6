from django_filters import rest_framework as filters

from appcontrol.core.fields import IdFilter, IdListFilter
from appcontrol.core.filtersets import FilterSet

from .models import Application, Domain, Environment, EnvironmentVariable, LegacyApplicationId, PlanGroup, Region


class RegionFilterSet(FilterSet):
    uuid = IdListFilter(field_name="pk", help_text="Only these regions; may repeat.")

    class Meta:
        model = Region
        fields = ["uuid", "slug"]


class ApplicationFilterSet(FilterSet):
    organisation = IdFilter(field_name="organisation_id")
    region = IdFilter(field_name="region_id")

    class Meta:
        model = Application
        fields = ["slug", "organisation", "region"]


class EnvironmentFilterSet(FilterSet):
    application = IdFilter(field_name="application_id")

    class Meta:
        model = Environment
        fields = ["application", "slug", "branch"]


class DomainFilterSet(FilterSet):
    environment = IdFilter(field_name="environment_id")
    application = IdFilter(field_name="environment__application_id")

    class Meta:
        model = Domain
        fields = ["environment", "application", "domain", "is_primary"]


class EnvironmentVariableFilterSet(FilterSet):
    environment = IdListFilter(field_name="environment_id", help_text="May repeat.")
    application = IdFilter(field_name="environment__application_id")

    class Meta:
        model = EnvironmentVariable
        fields = ["environment", "application", "name", "is_sensitive"]


class PlanGroupFilterSet(FilterSet):
    organisation = IdFilter(
        method="offered_to", help_text="The organisation the application is for (every plan group is offered)."
    )

    class Meta:
        model = PlanGroup
        fields = ["organisation"]

    def offered_to(self, queryset, name, value):
        return queryset


class LegacyApplicationFilterSet(FilterSet):
    id = filters.NumberFilter(field_name="id", help_text="The application's number (divio-cli's `--remote-id`).")

    class Meta:
        model = LegacyApplicationId
        fields = ["id"]
