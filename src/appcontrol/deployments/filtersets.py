from django_filters import rest_framework as filters

from appcontrol.applications.models import Repository
from appcontrol.core.fields import IdFilter
from appcontrol.core.filtersets import FilterSet

from .models import Build, Deployment


class RepositoryFilterSet(FilterSet):
    organisation = IdFilter(field_name="organisation_id")
    state = filters.ChoiceFilter(choices=Repository.State.choices)

    class Meta:
        model = Repository
        fields = ["organisation", "state"]


class BuildFilterSet(FilterSet):
    application = IdFilter(field_name="application_id")
    commit = filters.CharFilter(field_name="commit")
    success = filters.BooleanFilter(field_name="success")

    class Meta:
        model = Build
        fields = ["application", "commit", "success"]


class DeploymentFilterSet(FilterSet):
    application = IdFilter(field_name="application_id")
    environment = IdFilter(field_name="environment_id")
    success = filters.BooleanFilter(field_name="success")

    class Meta:
        model = Deployment
        fields = ["application", "environment", "success"]
