from django.apps import AppConfig
from django.conf import settings


class UploadsConfig(AppConfig):
    name = "extagram.uploads"
    label = "uploads"

    def ready(self):
        if settings.ROLE in ("upload", "all"):
            # the pipeline (libvips, Pillow) at start-up: a preloading server's workers
            # share it, and a broken libvips fails the start instead of the first upload
            from . import budget, images  # noqa: F401

            budget.check()
