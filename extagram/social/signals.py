"""Notifications, tags and search names, kept in step with what people do.

Signals rather than view code, so posts and comments made by any path (the upload
view, the admin, seed_posts) are tagged and notify the same way.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from extagram.accounts.models import Profile
from extagram.posts.models import Comment, Like, Post
from extagram.posts.signals import activity_changed_by_save, deleted_with, posts_added_in_bulk

from .models import (
    Follow,
    Notification,
    PostTag,
    SearchName,
    Tag,
    home_feeds_changed,
    link_post_tags,
    notifications_changed,
    profile_numbers_changed,
)
from .text import mentions_in, post_tags_of, search_key, tags_in


def _notify_mentions(text, actor_id, post_id, comment_id=None, skip=(), edited=False):
    """A MENTION for each existing member named in `text` (once per post or comment).
    `edited`: `text` replaces what the post or comment said, and the MENTIONs of members
    it no longer names are taken back (as an unlike takes back its LIKE)."""
    handles = mentions_in(text)
    already = Notification.objects.filter(
        kind=Notification.MENTION, post_id=post_id, comment_id=comment_id
    )
    if edited:
        named = get_user_model().objects.filter(username__in=handles).values_list("id", flat=True)
        already.exclude(recipient_id__in=list(named)).delete()
    if not handles:
        return
    users = get_user_model().objects.filter(username__in=handles, is_active=True)
    notified = set(already.values_list("recipient_id", flat=True))
    for user_id in users.values_list("id", flat=True):
        if user_id not in notified and user_id not in skip:
            Notification.notify(
                user_id, actor_id, Notification.MENTION, post_id=post_id, comment_id=comment_id
            )


def _relink_tags(post_id, author_id, caption, with_comments=True):
    """Make post `post_id`'s PostTag rows the tags it is found under (text.post_tags_of);
    `with_comments` False for a post that can have none yet (just made)."""
    own = ()
    if with_comments:
        own = Comment.objects.filter(post_id=post_id, author_id=author_id).values_list(
            "body", flat=True
        )
    wanted = post_tags_of(caption, own)
    linked = dict(PostTag.objects.filter(post_id=post_id).values_list("tag__name", "id"))
    link_post_tags(post_id, wanted, linked, Tag, PostTag)


@receiver(post_save, sender=Post)
def sync_tags(sender, instance, created, raw=False, **kwargs):
    """The post's PostTag rows are the tags in its caption and its author's own comments
    (a new author's, when the admin gives it to another member); mentions notify, and an
    edit that drops a mention takes its notification back."""
    if raw:
        return
    _relink_tags(instance.pk, instance.author_id, instance.caption, with_comments=not created)
    _notify_mentions(instance.caption, instance.author_id, instance.pk, edited=not created)


def _comment_tags_changed(comment, body_before=None):
    """A comment by its post's author carried tags (now or before, `body_before`): the
    post's tags are linked again. Nothing for a comment without any, most of them."""
    if not tags_in(comment.body) and not (body_before and tags_in(body_before)):
        return
    post = Post.objects.filter(pk=comment.post_id).values_list("author_id", "caption").first()
    if post is not None and post[0] == comment.author_id:
        _relink_tags(comment.post_id, *post)


@receiver(pre_save, sender=Comment)
def note_comment_body(sender, instance, raw=False, **kwargs):
    """Before the admin changes a comment: its body as stored, for comment_tags_saved."""
    if not raw and instance.pk is not None:
        instance._body_before = (
            Comment.objects.filter(pk=instance.pk).values_list("body", flat=True).first()
        )


@receiver(post_save, sender=Comment)
def comment_tags_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _comment_tags_changed(instance, getattr(instance, "_body_before", None))


@receiver(post_delete, sender=Comment)
def comment_tags_deleted(sender, instance, origin=None, **kwargs):
    """A removed comment of the author's no longer tags the post (with the post or an
    account, the post's rows go in the cascade or the post stays with the same author)."""
    if not deleted_with(origin, Post, get_user_model()):
        _comment_tags_changed(instance)


@receiver(post_save, sender=Comment)
def notify_comment(sender, instance, created, raw=False, **kwargs):
    if raw or not created:
        return
    author_id = Post.objects.filter(pk=instance.post_id).values_list("author_id", flat=True)
    post_author = author_id.first()
    Notification.notify(
        post_author,
        instance.author_id,
        Notification.COMMENT,
        post_id=instance.post_id,
        comment_id=instance.pk,
    )
    # The post's author already hears of the comment: no second notification.
    _notify_mentions(
        instance.body, instance.author_id, instance.post_id, instance.pk, skip={post_author}
    )


def _post_author_id(like):
    """The id of the author of the post `like` is on (None if the post is gone): no
    statement when the like came with its post (Like.toggle's new like)."""
    if Like._meta.get_field("post").is_cached(like):
        return like.post.author_id
    return Post.objects.filter(pk=like.post_id).values_list("author_id", flat=True).first()


@receiver(post_save, sender=Like)
def notify_like(sender, instance, created, raw=False, **kwargs):
    """A new like notifies the post's author, and adds to their likes received."""
    if raw or not created:
        return
    author_id = _post_author_id(instance)
    profile_numbers_changed(author_id)
    Notification.notify(author_id, instance.user_id, Notification.LIKE, post_id=instance.post_id)


@receiver(post_delete, sender=Like)
def forget_like(sender, instance, origin=None, **kwargs):
    """An unlike takes its notification back (so like-unlike-like is not three), and
    takes one from the author's likes received (a like deleted itself, alone or in a
    queryset, the admin's: one statement reads its post's author).

    Deleted with its post or its account (`origin`, deleted_with), the notification goes
    in the same cascade (its post's or its actor's) and the totals are renewed once
    (post_removed, account_deleted); deleted by anything else, every member's totals."""
    if deleted_with(origin, Post, get_user_model()):
        return
    Notification.objects.filter(
        kind=Notification.LIKE, actor_id=instance.user_id, post_id=instance.post_id
    ).delete()
    if not deleted_with(origin, Like):
        profile_numbers_changed()
        return
    author_id = _post_author_id(instance)
    if author_id is not None:  # else the post is gone, and its deletion renewed the totals
        profile_numbers_changed(author_id)


@receiver(post_save, sender=Follow)
def notify_follow(sender, instance, created, raw=False, **kwargs):
    if raw or not created:
        return
    Notification.notify(instance.followee_id, instance.follower_id, Notification.FOLLOW)


@receiver(post_delete, sender=Follow)
def forget_follow(sender, instance, origin=None, **kwargs):
    """An unfollow takes its notification back; with an account, it goes in the cascade."""
    if deleted_with(origin, get_user_model()):
        return
    Notification.objects.filter(
        kind=Notification.FOLLOW, actor_id=instance.follower_id, recipient_id=instance.followee_id
    ).delete()


@receiver(post_save, sender=Profile)
def keep_search_name(sender, instance, raw=False, **kwargs):
    """The display name folded for search by name prefix (text.search_key)."""
    if raw:
        return
    key = search_key(instance.display_name)[:100]
    if key:
        SearchName.objects.update_or_create(user_id=instance.user_id, defaults={"key": key})
    else:
        SearchName.objects.filter(user_id=instance.user_id).delete()


@receiver(post_save, sender=Post)
def post_added(sender, instance, created, raw=False, **kwargs):
    """A new post may belong in anyone's home feed (its author's followers', its own), and
    counts in its author's total."""
    if created and not raw:
        home_feeds_changed()
        profile_numbers_changed(instance.author_id)


@receiver(post_save, sender=Post)
def post_changed(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """A post saved in place (an edit; the admin can give it another author or like count,
    and who had it before is not known here): every member's totals are renewed, unless
    the fields saved are named and are neither of those."""
    moved = update_fields is None or {"author", "author_id", "like_count"} & set(update_fields)
    if not created and not raw and moved:
        profile_numbers_changed()


@receiver(post_delete, sender=Post)
def post_removed(sender, instance, origin=None, **kwargs):
    """A deleted post leaves the home feeds and its author's totals (with its account:
    account_deleted renews them once)."""
    if not deleted_with(origin, get_user_model()):
        home_feeds_changed()
        profile_numbers_changed(instance.author_id)


@receiver(pre_delete, sender=Post)
def post_notifications_going(sender, instance, origin=None, **kwargs):
    """Before a post's notifications cascade: their recipients' unread counts, once each
    (unread_count_changed skips each notification). Two statements, each read by an index:
    the post's notifications, then its comments' (a comment's notifications name the post it
    was on when made; the admin can move it). One statement with both conditions OR'ed
    across the comments' join read every notification of every member (42,041 rows for a
    post with 3,000 comments, and for a post with none; docs/performance.md, "Likes and
    comments by the thousand")."""
    if deleted_with(origin, get_user_model()):
        return
    recipients = set()
    for going in (
        Notification.objects.filter(post=instance),
        Notification.objects.filter(comment__post=instance),
    ):
        recipients.update(going.order_by().values_list("recipient_id", flat=True).distinct())
    for recipient_id in recipients:
        notifications_changed(recipient_id)


@receiver(post_delete, sender=get_user_model())
def account_deleted(sender, instance, **kwargs):
    """An account's deletion changes what its posts, likes, follows and notifications
    counted for others: every member's profile numbers, home feed and unread count are
    renewed once (six cache writes) rather than per row (see deleted_with)."""
    profile_numbers_changed()
    home_feeds_changed()
    notifications_changed()


@receiver(posts_added_in_bulk, sender=Post)
def posts_added(sender, **kwargs):
    home_feeds_changed()
    profile_numbers_changed()


@receiver(post_save, sender=Follow)
@receiver(post_delete, sender=Follow)
def follows_changed(sender, instance, raw=False, origin=None, **kwargs):
    """The follower's home feed now reads other authors (a new follow or an unfollow), and
    both members' follow counts changed (with an account: account_deleted)."""
    if not raw and not deleted_with(origin, get_user_model()):
        home_feeds_changed(instance.follower_id)
        profile_numbers_changed(instance.follower_id, instance.followee_id)


@receiver(post_save, sender=Follow)
def follow_edited(sender, instance, created, raw=False, **kwargs):
    """A follow changed in place (the admin can move it to other members): the members it
    linked before are not known here, so every member's counts and home feed are renewed."""
    if not raw and not created:
        profile_numbers_changed()
        home_feeds_changed()


@receiver(post_save, sender=get_user_model())
def account_activity_changed(sender, instance, raw=False, **kwargs):
    """An account deactivated or reactivated leaves or rejoins everyone's follow counts,
    feeds and notifications (its posts, likes and comments: posts.signals.activity_changed)."""
    if not raw and activity_changed_by_save(instance):
        Follow.objects.filter(follower=instance).update(follower_is_active=instance.is_active)
        Follow.objects.filter(followee=instance).update(followee_is_active=instance.is_active)
        profile_numbers_changed()
        home_feeds_changed()
        notifications_changed()


@receiver(post_save, sender=Notification)
@receiver(post_delete, sender=Notification)
def unread_count_changed(sender, instance, raw=False, origin=None, **kwargs):
    """The recipient's cached unread count (Notification.unread_count) is out of date
    (deleted with a post or an account: post_notifications_going, account_deleted)."""
    if not raw and not deleted_with(origin, Post, get_user_model()):
        notifications_changed(instance.recipient_id)
