from .views import BuildViewSet, DeploymentViewSet, EnvironmentLogViewSet, RepositoryViewSet


def register(router) -> None:
    router.register("repositories", RepositoryViewSet, basename="repository")
    router.register("deployments", DeploymentViewSet, basename="deployment")
    router.register("builds", BuildViewSet, basename="build")
    # Only `environments/{uuid}/logs/`: the environments themselves belong to the applications API.
    router.register("environments", EnvironmentLogViewSet, basename="environment-log")
