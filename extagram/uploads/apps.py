from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "extagram.uploads"
    label = "uploads"
