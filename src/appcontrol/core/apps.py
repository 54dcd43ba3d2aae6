from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "appcontrol.core"
    label = "core"
