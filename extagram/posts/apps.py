from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "extagram.posts"
    label = "posts"

    def ready(self):
        from . import signals  # noqa: F401
