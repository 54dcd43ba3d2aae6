from .views import (
    ApplicationViewSet,
    AppTemplateViewSet,
    DomainViewSet,
    EnvironmentVariableViewSet,
    EnvironmentViewSet,
    LegacyApplicationViewSet,
    PlanGroupViewSet,
    RegionViewSet,
)


def register(router) -> None:
    router.register("regions", RegionViewSet, basename="region")
    router.register("applications", ApplicationViewSet, basename="application")
    router.register("environments", EnvironmentViewSet, basename="environment")
    router.register("domains", DomainViewSet, basename="domain")
    router.register("environment-variables", EnvironmentVariableViewSet, basename="environment-variable")
    router.register("app-templates", AppTemplateViewSet, basename="app-template")


def register_billing(router) -> None:
    router.register("application-plan-groups", PlanGroupViewSet, basename="application-plan-group")


def register_legacy(router) -> None:
    router.register("applications", LegacyApplicationViewSet, basename="legacy-application")
