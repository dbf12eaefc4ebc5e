from django.urls import path

from . import views

urlpatterns = [
    path("", views.feed, name="feed"),
    path("p/<int:pk>/", views.post_detail, name="post_detail"),
    path("p/<int:pk>/like/", views.toggle_like, name="toggle_like"),
    path("p/<int:pk>/comments/", views.add_comment, name="add_comment"),
    path("p/<int:pk>/edit/", views.edit_post, name="edit_post"),
    path("p/<int:pk>/delete/", views.delete_post, name="delete_post"),
    path("c/<int:pk>/delete/", views.delete_comment, name="delete_comment"),
    path("u/<str:username>/", views.profile, name="profile"),
]
