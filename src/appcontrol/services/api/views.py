from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins

from appcontrol.accounts.permissions import CanManageOrganisationObject
from appcontrol.core.schema import operation_ids
from appcontrol.core.viewsets import ApiViewSet

from .. import services
from ..filtersets import ServiceFilterSet, ServiceInstanceFilterSet
from ..selectors import service_instances_visible, services_available
from .serializers import ServiceInstanceCreateSerializer, ServiceInstanceSerializer, ServiceSerializer


@extend_schema_view(**operation_ids("Service", "Services", ["list", "retrieve"]))
class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The services this server can provision (engines the operator has not configured are left out)."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet

    def get_queryset(self):
        return services_available(self.request)


@extend_schema_view(**operation_ids("ServiceInstance", "ServiceInstances", ["list", "retrieve", "create", "destroy"]))
class ServiceInstanceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Databases and storage of your environments. Creating one provisions it in the background
    (`service_status` NEW → PROVISIONING → ATTACHED, or ERROR with `errors`); its credentials reach the
    environment as variables. Deleting one destroys its data and needs the owner or admin role."""

    serializer_class = ServiceInstanceSerializer
    filterset_class = ServiceInstanceFilterSet
    permission_classes = [*ApiViewSet.permission_classes, CanManageOrganisationObject]
    managing_actions = {"destroy"}

    def get_serializer_class(self):
        return ServiceInstanceCreateSerializer if self.action == "create" else ServiceInstanceSerializer

    def get_queryset(self):
        return service_instances_visible(self.request)

    def get_organisation_id(self, instance):
        return instance.environment.organisation_id

    def perform_destroy(self, instance):
        services.service_instance_delete(instance=instance)
