from django.apps import AppConfig
from django.conf import settings


class UploadsConfig(AppConfig):
    name = "extagram.uploads"
    label = "uploads"

    def ready(self):
        if settings.ROLE in ("upload", "all"):
            from . import budget

            budget.check()
