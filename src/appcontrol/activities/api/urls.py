from .views import ApplicationActivityViewSet


def register(router) -> None:
    router.register("application-activities", ApplicationActivityViewSet, basename="application-activity")
