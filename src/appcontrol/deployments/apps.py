from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "appcontrol.deployments"
    label = "deployments"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the clone and deployment job runners
