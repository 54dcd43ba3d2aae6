from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "appcontrol.applications"
    label = "applications"
