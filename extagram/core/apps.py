from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "extagram.core"
    label = "core"
