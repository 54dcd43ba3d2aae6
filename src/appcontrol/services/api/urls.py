from drf_spectacular.utils import extend_schema, extend_schema_view

from .views import ServiceInstanceViewSet, ServiceViewSet


@extend_schema_view(
    list=extend_schema(exclude=True),
    retrieve=extend_schema(exclude=True),
    create=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class LegacyServiceInstanceViewSet(ServiceInstanceViewSet):
    """The same collection under the name the API root has always used; kept out of the schema."""


def register(router) -> None:
    router.register("services", ServiceViewSet, basename="service")
    router.register("service-instances", ServiceInstanceViewSet, basename="service-instance")
    router.register("serviceinstances", LegacyServiceInstanceViewSet, basename="serviceinstance")
