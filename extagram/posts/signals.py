"""Keep the denormalised like/comment counters and the photo files in step.

Signals (not view code) so that cascades from admin deletes or user deletion
are covered too.
"""

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Comment, Like, Post


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
    names = instance.image_names

    def remove_unshared_files():
        still_used = set(
            Post.objects.filter(image_large__in=names).values_list("image_large", flat=True)
        ) | set(Post.objects.filter(image_small__in=names).values_list("image_small", flat=True))
        for name in names:
            if name not in still_used:
                default_storage.delete(name)

    transaction.on_commit(remove_unshared_files)
