from django.urls import path

from . import views

urlpatterns = [
    path("", views.upload, name="upload"),
    path("avatar/", views.avatar, name="avatar"),
    path("avatar/remove/", views.remove_avatar, name="remove_avatar"),
]
