from django.contrib import admin

from .models import Follow, Notification, PostTag, Tag


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["id", "follower", "followee", "created_at"]
    list_select_related = ["follower", "followee"]
    search_fields = ["follower__username", "followee__username"]
    raw_id_fields = ["follower", "followee"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "actor", "post", "read", "created_at"]
    list_filter = ["kind", "read"]
    list_select_related = ["recipient", "actor"]
    search_fields = ["recipient__username", "actor__username"]
    raw_id_fields = ["recipient", "actor", "post", "comment"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(PostTag)
class PostTagAdmin(admin.ModelAdmin):
    list_display = ["id", "tag", "post"]
    list_select_related = ["tag"]
    search_fields = ["tag__name"]
    raw_id_fields = ["post", "tag"]
