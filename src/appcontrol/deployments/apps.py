from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "appcontrol.deployments"
    label = "deployments"

    def ready(self):
        from appcontrol.core.periodic import register

        from . import tasks  # noqa: F401 - registers the clone and deployment job runners
        from .logs import logs_expire

        register("expired log lines", logs_expire, every_seconds=3600)

        from appcontrol.core.events import subscribe

        from . import subscribers
        from .templates import application_from_template

        subscribe("application.created", application_from_template)
        subscribe("application.deleted", subscribers.hosted_repository_of_deleted_application)
