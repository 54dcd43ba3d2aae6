from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "appcontrol.backups"
    label = "backups"

    def ready(self):
        from appcontrol.core.events import subscribe

        from . import subscribers, tasks  # noqa: F401 - tasks registers the backup and restore job runners

        subscribe("service_instance.created", subscribers.schedule_for_new_instance)
        subscribe("environment.deleted", subscribers.artifacts_of_deleted_environment)
