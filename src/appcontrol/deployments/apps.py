from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "appcontrol.deployments"
    label = "deployments"

    def ready(self):
        from appcontrol.core.periodic import register

        from . import tasks  # noqa: F401 - registers the clone and deployment job runners
        from .logs import logs_expire

        register("expired log lines", logs_expire, every_seconds=3600)
