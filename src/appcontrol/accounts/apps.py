from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "appcontrol.accounts"
    label = "accounts"

    def ready(self):
        from . import schema  # noqa: F401 - registers the OpenAPI description of the token scheme
