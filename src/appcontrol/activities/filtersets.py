from django_filters import rest_framework as filters

from appcontrol.core.fields import IdFilter
from appcontrol.core.filtersets import FilterSet

from .models import ApplicationActivity


class ApplicationActivityFilterSet(FilterSet):
    application = IdFilter(field_name="application_id")
    organisation = IdFilter(field_name="organisation_id")
    type = filters.CharFilter(help_text="An event name, e.g. `deployment.created` or `environment_variable.updated`.")
    user_name = filters.CharFilter(lookup_expr="icontains", help_text="Part of the name of who did it.")

    class Meta:
        model = ApplicationActivity
        fields = ["application", "organisation", "type", "user_name"]
