"""Keep every user's username canonical and its Profile (the unique handle) in step.

Signals rather than form code, so accounts made by `createsuperuser`, the
admin, allauth or tests all follow the same path.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from extagram.posts.models import StoredFile

from .models import Profile
from .usernames import canonical

User = get_user_model()


@receiver(pre_save, sender=User)
def store_canonical_username(sender, instance, update_fields=None, **kwargs):
    if update_fields is None or "username" in update_fields:
        instance.username = canonical(instance.username)


@receiver(post_save, sender=User)
def keep_profile_handle(sender, instance, created, update_fields=None, raw=False, **kwargs):
    """Write the profile's unique handle; a clash raises IntegrityError in this transaction."""
    if raw or (update_fields is not None and "username" not in update_fields):
        return
    if created:
        Profile.objects.create(user=instance, handle=instance.username)
    else:
        Profile.objects.update_or_create(user=instance, defaults={"handle": instance.username})


@receiver(post_delete, sender=Profile)
def release_avatar_files(sender, instance, **kwargs):
    """Once a deleted profile's deletion commits (its account's, by delete_account or the
    admin), release its picture's files the way a deleted post's are (kept if a post or
    another picture still uses them; posts.signals.remove_photo_files)."""
    names = instance.avatar_names
    if names:
        transaction.on_commit(lambda: StoredFile.objects.release(names), robust=True)
