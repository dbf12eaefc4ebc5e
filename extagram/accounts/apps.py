from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "extagram.accounts"
    label = "accounts"
