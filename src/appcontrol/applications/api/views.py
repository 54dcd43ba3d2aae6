from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins

from appcontrol.accounts.permissions import CanManageOrganisationObject
from appcontrol.core.schema import operation_ids
from appcontrol.core.viewsets import ApiModelViewSet, ApiViewSet

from .. import services, variables
from ..filtersets import (
    ApplicationFilterSet,
    DomainFilterSet,
    EnvironmentFilterSet,
    EnvironmentVariableFilterSet,
    LegacyApplicationFilterSet,
    PlanGroupFilterSet,
    RegionFilterSet,
)
from ..selectors import (
    app_templates_visible,
    applications_visible,
    domains_visible,
    environment_variables_visible,
    environments_visible,
    legacy_ids_visible,
    plan_groups_visible,
    regions_visible,
)
from .serializers import (
    ApplicationCreateSerializer,
    ApplicationSerializer,
    AppTemplateDetailSerializer,
    AppTemplateSerializer,
    DomainSerializer,
    EnvironmentCreateSerializer,
    EnvironmentSerializer,
    EnvironmentVariableCreateSerializer,
    EnvironmentVariableSerializer,
    EnvironmentVariableUpdateSerializer,
    LegacyApplicationSerializer,
    PlanGroupDetailSerializer,
    PlanGroupSerializer,
    RegionSerializer,
)

DEFAULT_PERMISSIONS = ApiViewSet.permission_classes


@extend_schema_view(**operation_ids("Region", "Regions", ["list", "retrieve"]))
class RegionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Regions applications can run in."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet

    def get_queryset(self):
        return regions_visible(self.request)


@extend_schema_view(
    **operation_ids(
        "Application", "Applications", ["list", "retrieve", "create", "update", "partial_update", "destroy"]
    )
)
class ApplicationViewSet(ApiModelViewSet):
    """Applications of the organisations you belong to. Creating one also creates its `test` and `live`
    environments; deleting one needs the owner or admin role."""

    serializer_class = ApplicationSerializer
    create_serializer_class = ApplicationCreateSerializer
    filterset_class = ApplicationFilterSet
    permission_classes = [*DEFAULT_PERMISSIONS, CanManageOrganisationObject]
    managing_actions = {"destroy"}

    def get_queryset(self):
        return applications_visible(self.request).select_related("organisation")  # git_url names it

    def get_organisation_id(self, application):
        return application.organisation_id

    def perform_destroy(self, instance):
        services.application_delete(application=instance)


@extend_schema_view(
    **operation_ids(
        "Environment", "Environments", ["list", "retrieve", "create", "update", "partial_update", "destroy"]
    )
)
class EnvironmentViewSet(ApiModelViewSet):
    """Environments of your applications (`test`, `live`, and any you add). Deleting one needs the owner
    or admin role."""

    serializer_class = EnvironmentSerializer
    create_serializer_class = EnvironmentCreateSerializer
    filterset_class = EnvironmentFilterSet
    permission_classes = [*DEFAULT_PERMISSIONS, CanManageOrganisationObject]
    managing_actions = {"destroy"}

    def get_queryset(self):
        return environments_visible(self.request).select_related("application")

    def get_organisation_id(self, environment):
        return environment.organisation_id

    def perform_destroy(self, instance):
        services.environment_delete(environment=instance)


@extend_schema_view(**operation_ids("Domain", "Domains", ["list", "retrieve", "create", "destroy"]))
class DomainViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Domain names of your environments; a new primary domain replaces the environment's old one."""

    serializer_class = DomainSerializer
    filterset_class = DomainFilterSet

    def get_queryset(self):
        return domains_visible(self.request)

    def perform_destroy(self, instance):
        services.domain_delete(domain=instance)


@extend_schema_view(
    **operation_ids(
        "EnvironmentVariable", "EnvironmentVariables", ["list", "retrieve", "create", "partial_update", "destroy"]
    )
)
class EnvironmentVariableViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Variables your environments' applications receive, including service credentials; filter by
    `environment` or `application`. Members set, change and remove their own variables; a change applies at
    the environment's next deployment (`pending_deployment`). Sensitive values you write are write-only:
    nobody reads them back. Service credentials are read-only and shown to owners and admins."""

    serializer_class = EnvironmentVariableSerializer
    filterset_class = EnvironmentVariableFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return environment_variables_visible(self.request).select_related("environment")

    def get_serializer_class(self):
        if self.action == "create":
            return EnvironmentVariableCreateSerializer
        if self.action == "partial_update":
            return EnvironmentVariableUpdateSerializer
        return EnvironmentVariableSerializer

    def perform_destroy(self, instance):
        variables.variable_delete(variable=instance)


@extend_schema_view(**operation_ids("AppTemplate", "AppTemplates", ["list", "retrieve"]))
class AppTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Templates new applications can start from (`app_template`: a template's `url`). The operator adds
    them with `appcontrol templates add`."""

    serializer_class = AppTemplateSerializer

    def get_queryset(self):
        return app_templates_visible(self.request)

    def get_serializer_class(self):
        return AppTemplateDetailSerializer if self.action == "retrieve" else AppTemplateSerializer


@extend_schema_view(**operation_ids("ApplicationPlanGroup", "ApplicationPlanGroups", ["list", "retrieve"]))
class PlanGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Plan groups an application may be created with (`plan_group`), with the regions each offers."""

    filterset_class = PlanGroupFilterSet

    def get_queryset(self):
        return plan_groups_visible(self.request)

    def get_serializer_class(self):
        return PlanGroupDetailSerializer if self.action == "retrieve" else PlanGroupSerializer


@extend_schema_view(**operation_ids("LegacyApplication", "LegacyApplications", ["list"]))
class LegacyApplicationViewSet(mixins.ListModelMixin, ApiViewSet):
    """Applications by the number older clients use (`?id=`), for divio-cli's numeric `--remote-id`."""

    serializer_class = LegacyApplicationSerializer
    filterset_class = LegacyApplicationFilterSet

    def get_queryset(self):
        return legacy_ids_visible(self.request).order_by("id")
