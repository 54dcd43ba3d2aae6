from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "appcontrol.backups"
    label = "backups"

    def ready(self):
        from appcontrol.core.events import subscribe

        from . import subscribers, tasks  # noqa: F401 - tasks registers the backup and restore job runners

        subscribe("service_instance.created", subscribers.schedule_for_new_instance)
        subscribe("environment.deleted", subscribers.artifacts_of_deleted_environment)
        subscribe("service_instance.provisioned", subscribers.restores_waiting_for)

        from appcontrol.core.periodic import register

        from .schedules import schedules_run
        from .services import backups_expire

        register("expired", backups_expire)
        register("scheduled", schedules_run)
