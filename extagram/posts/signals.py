"""Keep the denormalised like/comment counters and the photo files in step.

Signals (not view code) so that cascades from admin deletes or user deletion
are covered too.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal, receiver

from .models import Comment, Like, Post, StoredFile

# Sent (sender=Post) by code that inserts posts or their likes with bulk_create, which
# sends no post_save (seed_posts): what follows each new post or like (extagram.social's
# home feeds and profile totals) listens to both.
posts_added_in_bulk = Signal()


def deleted_with(origin, *models):
    """Whether a pre_delete or post_delete signal's `origin` (Django's: the instance or
    queryset whose delete() started the deletion; None for any other signal) is an
    instance or a queryset of one of `models`.

    A receiver uses it to leave to the origin's own receivers what they do once for a
    whole cascade: without it, deleting a post with 10,000 likes, or an account, ran
    statements and cache writes per like, follow and notification (an account with
    200 posts and 12,000 likes took 57 s in-process: docs/performance.md, "An account's
    deletion").
    """
    # __class__, not type(): request.user, a lazy object, answers with the user's class
    model = origin.model if isinstance(origin, QuerySet) else origin.__class__
    return model in models


def _less(field, amount):
    """An UPDATE expression: the count `field` less `amount` (an int or an expression),
    never below 0. The counts are unsigned (MariaDB) or checked >= 0 (SQLite), so a count
    that drifted below its rows (rows moved or inserted outside the app) would otherwise
    make the removal of a like or a comment fail and roll back: GREATEST(n, amount) -
    amount never goes below 0, even in MariaDB's unsigned arithmetic."""
    return Greatest(F(field), amount) - amount


def _bump(post_id, field, delta, user_id):
    """Add `delta` to the count `field` of the post `post_id` if the account `user_id` (the
    like's or comment's) is active: a deactivated member's are not counted
    (activity_changed). One statement."""
    change = F(field) + delta if delta >= 0 else _less(field, -delta)
    counted = Exists(get_user_model().objects.filter(pk=user_id, is_active=True))
    Post.objects.filter(counted, pk=post_id).update(**{field: change})


@receiver(post_save, sender=Like)
def count_new_like(sender, instance, created, **kwargs):
    if created:
        _bump(instance.post_id, "like_count", 1, instance.user_id)


@receiver(post_delete, sender=Like)
def count_removed_like(sender, instance, origin=None, **kwargs):
    """One like less on its post, unless the post goes too (deleted with it) or the
    account that gave it does (take_from_counts did all of theirs at once)."""
    if not deleted_with(origin, Post, get_user_model()):
        _bump(instance.post_id, "like_count", -1, instance.user_id)


@receiver(post_save, sender=Comment)
def count_new_comment(sender, instance, created, **kwargs):
    if created:
        _bump(instance.post_id, "comment_count", 1, instance.author_id)


@receiver(post_delete, sender=Comment)
def count_removed_comment(sender, instance, origin=None, **kwargs):
    """One comment less on its post, unless the post or the account goes too (as for
    likes)."""
    if not deleted_with(origin, Post, get_user_model()):
        _bump(instance.post_id, "comment_count", -1, instance.author_id)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def uncount_account(sender, instance, **kwargs):
    """Before an account's likes and comments cascade: take_from_counts (their own
    post_delete receivers then skip). After erasure.delete_account, which calls it itself
    before deleting them in batches, it finds none: two statements that change nothing."""
    take_from_counts(instance)


def take_from_counts(user):
    """Take `user`'s likes and comments from the counts of the posts they are on, in two
    statements, before they are deleted as part of the account's deletion (deleted_with:
    count_removed_like and count_removed_comment then skip them). Nothing for an account
    staff deactivated: its likes and comments left the counts then (activity_changed)."""
    if user.is_active:
        _move_counts(user, -1)


def _move_counts(user, sign):
    """Add (`sign` 1) or take (-1) `user`'s likes and comments to or from the counts of the
    posts they are on: two statements."""
    liked = Like.objects.filter(user=user).values("post_id")
    theirs = Comment.objects.filter(author=user)
    per_post = theirs.filter(post=OuterRef("pk")).order_by().values("post")
    comments = Subquery(per_post.annotate(n=Count("*")).values("n"))
    if sign > 0:
        like_count, comment_count = F("like_count") + 1, F("comment_count") + comments
    else:
        like_count, comment_count = _less("like_count", 1), _less("comment_count", comments)
    Post.objects.filter(pk__in=liked).update(like_count=like_count)
    Post.objects.filter(pk__in=theirs.values("post_id")).update(comment_count=comment_count)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def note_activity(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before a save that may change is_active, note what it was (for activity_changed):
    not an account's creation (it has made nothing yet), not a save naming its fields
    without is_active (a log-in's last_login)."""
    instance._was_active = None
    may_change = update_fields is None or "is_active" in update_fields
    if not raw and not instance._state.adding and may_change:
        was = get_user_model().objects.filter(pk=instance.pk).values_list("is_active", flat=True)
        if transaction.get_connection().in_atomic_block:
            # a second deactivation at once (two staff, a double submit) waits for the first
            # to commit and then sees no change, instead of taking the counts down twice
            was = was.select_for_update()
        instance._was_active = was.first()


def activity_changed_by_save(user):
    """Whether the save of `user` just made (in a post_save receiver) changed is_active: a
    deactivation or a reactivation (note_activity read the value before)."""
    was = getattr(user, "_was_active", None)
    return was is not None and was != user.is_active


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def activity_changed(sender, instance, raw=False, **kwargs):
    """A deactivated account's posts leave every list and page (Post.author_is_active) and
    its likes and comments leave the counts of the posts they are on; a reactivated one's
    come back."""
    if not raw and activity_changed_by_save(instance):
        _move_counts(instance, 1 if instance.is_active else -1)
        # last, so that a post inserted meanwhile (Post.save reads the flag again) is
        # seen by this statement or reads the new is_active once this commits
        Post.objects.filter(author=instance).update(author_is_active=instance.is_active)


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
