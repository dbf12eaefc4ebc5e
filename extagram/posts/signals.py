"""Keep the denormalised like/comment counters and the photo files in step.

Signals (not view code) so that cascades from admin deletes or user deletion
are covered too.
"""

from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .models import Comment, Like, Post, StoredFile

# Sent (sender=Post) by code that inserts posts or their likes with bulk_create, which
# sends no post_save (seed_posts): what follows each new post or like (extagram.social's
# home feeds and profile totals) listens to both.
posts_added_in_bulk = Signal()


def _bump(post_id, field, delta):
    Post.objects.filter(pk=post_id).update(**{field: F(field) + delta})


@receiver(post_save, sender=Like)
def count_new_like(sender, instance, created, **kwargs):
    if created:
        _bump(instance.post_id, "like_count", 1)


@receiver(post_delete, sender=Like)
def count_removed_like(sender, instance, **kwargs):
    _bump(instance.post_id, "like_count", -1)


@receiver(post_save, sender=Comment)
def count_new_comment(sender, instance, created, **kwargs):
    if created:
        _bump(instance.post_id, "comment_count", 1)


@receiver(post_delete, sender=Comment)
def count_removed_comment(sender, instance, **kwargs):
    _bump(instance.post_id, "comment_count", -1)


@receiver(post_delete, sender=Post)
def remove_photo_files(sender, instance, **kwargs):
    """Once the deletion has committed, delete the post's files that no other post uses.

    After the commit, not before: until then the deletion may still roll back. Each
    file is checked and deleted under its StoredFile lock (see StoredFile for why that
    loses no file under any interleaving). A failure here is logged and left to the
    media sweep; the deletion itself has already succeeded.
    """
    names = instance.image_names
    transaction.on_commit(lambda: StoredFile.objects.release(names), robust=True)
