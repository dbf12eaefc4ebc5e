from django.urls import path

from . import views

urlpatterns = [
    path("explore/", views.explore, name="explore"),
    path("accounts/profile/", views.edit_profile, name="edit_profile"),
    path("search/", views.search, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/unread/", views.unread_count, name="notifications_unread"),
    path("notifications/read/", views.mark_all_read, name="notifications_read_all"),
    path("tags/<str:name>/", views.tag, name="tag"),
    path("u/<str:username>/follow/", views.follow, name="follow"),
    path("u/<str:username>/unfollow/", views.unfollow, name="unfollow"),
    path("u/<str:username>/followers/", views.followers, name="followers"),
    path("u/<str:username>/following/", views.following, name="following"),
]
