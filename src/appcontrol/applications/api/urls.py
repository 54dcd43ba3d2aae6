from .views import (
    ApplicationViewSet,
    DomainViewSet,
    EnvironmentVariableViewSet,
    EnvironmentViewSet,
    RegionViewSet,
)


def register(router) -> None:
    router.register("regions", RegionViewSet, basename="region")
    router.register("applications", ApplicationViewSet, basename="application")
    router.register("environments", EnvironmentViewSet, basename="environment")
    router.register("domains", DomainViewSet, basename="domain")
    router.register("environment-variables", EnvironmentVariableViewSet, basename="environment-variable")
