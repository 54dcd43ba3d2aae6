from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a first start (`appcontrol demo`): the top layer, free to use every part below it."""

    name = "appcontrol.demo"
    label = "demo"
