from django.contrib import admin

from .models import Follow, Notification, PostTag, Tag


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["id", "follower", "followee", "created_at"]
    list_select_related = ["follower", "followee"]
    search_fields = ["follower__username", "followee__username"]
    raw_id_fields = ["follower", "followee"]
    readonly_fields = ["created_at"]


class DerivedAdmin(admin.ModelAdmin):
    """Rows the site derives from what members do (a post's tags, notifications):
    staff look and delete, but do not add or rewrite them (a hand-made tag the caption
    parser would never produce could not even be reached: extagram.social.text)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(DerivedAdmin):
    list_display = ["id", "recipient", "kind", "actor", "post", "read", "created_at"]
    list_filter = ["kind", "read"]
    list_select_related = ["recipient", "actor"]
    search_fields = ["recipient__username", "actor__username"]
    raw_id_fields = ["recipient", "actor", "post", "comment"]


@admin.register(Tag)
class TagAdmin(DerivedAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(PostTag)
class PostTagAdmin(DerivedAdmin):
    list_display = ["id", "tag", "post"]
    list_select_related = ["tag"]
    search_fields = ["tag__name"]
    raw_id_fields = ["post", "tag"]
