from .views import BuildViewSet, DeploymentViewSet, RepositoryViewSet


def register(router) -> None:
    router.register("repositories", RepositoryViewSet, basename="repository")
    router.register("deployments", DeploymentViewSet, basename="deployment")
    router.register("builds", BuildViewSet, basename="build")
