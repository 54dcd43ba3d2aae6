from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "appcontrol.accounts"
    label = "accounts"
