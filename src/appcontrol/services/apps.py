from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "appcontrol.services"
    label = "services"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the provisioning job runners
