from .views import ApplicationViewSet, DomainViewSet, EnvironmentViewSet, RegionViewSet


def register(router) -> None:
    router.register("regions", RegionViewSet, basename="region")
    router.register("applications", ApplicationViewSet, basename="application")
    router.register("environments", EnvironmentViewSet, basename="environment")
    router.register("domains", DomainViewSet, basename="domain")
