from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "appcontrol.backups"
    label = "backups"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the backup and restore job runners
