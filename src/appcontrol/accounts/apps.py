from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "appcontrol.accounts"
    label = "accounts"

    def ready(self):
        from appcontrol.core.periodic import register

        from . import schema  # noqa: F401 - registers the OpenAPI description of the token scheme
        from .idempotency import idempotent_requests_expire

        register("idempotent requests expired", idempotent_requests_expire, every_seconds=600)
