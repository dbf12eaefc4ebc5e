from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "extagram.social"
    label = "social"

    def ready(self):
        from . import signals  # noqa: F401
