from django.contrib import admin
from django.db import models

from extagram.core.forms import BrowserTextField

from .models import Comment, Like, Post

# Staff edits count line breaks as the browser does, like every other form. Creation
# times are read-only (as Follow's): the admin's date and time inputs drop the
# microseconds, so a save in place moved a comment before the one made just ahead of it.
BROWSER_TEXT = {models.TextField: {"form_class": BrowserTextField}}


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    formfield_overrides = BROWSER_TEXT
    list_display = ["id", "author", "short_caption", "like_count", "comment_count", "created_at"]
    list_select_related = ["author"]
    search_fields = ["caption", "author__username"]
    readonly_fields = [
        "image_large",
        "image_small",
        "image_large_webp",
        "image_medium_webp",
        "image_small_webp",
        "width",
        "height",
        "small_width",
        "medium_width",
        "like_count",
        "comment_count",
        "created_at",
    ]
    raw_id_fields = ["author"]

    @admin.display(description="caption")
    def short_caption(self, post):
        return post.caption[:60]

    def has_add_permission(self, request):
        """A post is made by uploading its photo (/upload/, the pipeline makes its files
        and sizes); the admin has no photo field, and its add form saved a post without
        any (a database error, a 500). Staff edit and delete posts here."""
        return False


class StaysOnItsPost(admin.ModelAdmin):
    """A like or comment is given by one member to one post: moving it would leave both
    posts' counts wrong (the signals count additions and removals, not moves), so once
    saved its post and member are read-only; staff delete it instead."""

    on_its_post = ()

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, *self.on_its_post] if obj is not None else fields


@admin.register(Comment)
class CommentAdmin(StaysOnItsPost):
    formfield_overrides = BROWSER_TEXT
    list_display = ["id", "author", "post", "body", "created_at"]
    list_select_related = ["author"]
    search_fields = ["body", "author__username"]
    raw_id_fields = ["author", "post"]
    readonly_fields = ["created_at"]
    on_its_post = ("post", "author")


@admin.register(Like)
class LikeAdmin(StaysOnItsPost):
    list_display = ["id", "user", "post", "created_at"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "post"]
    readonly_fields = ["created_at"]
    on_its_post = ("post", "user")
