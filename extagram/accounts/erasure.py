"""Delete an account and everything that belongs to it (GDPR art. 17, erasure)."""

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from extagram.posts.models import Post, StoredFile

# Posts are deleted a batch at a time, each batch's posts holding about this many likes and
# comments between them (a post with more goes alone): Django's deletion loads every row it
# deletes as a model instance, so the batch bounds the worker's memory.
ROWS_AT_ONCE = 5000


def delete_account(user):
    """Remove `user` and all of their data; returns the number of sessions ended.

    Posts go through a queryset's delete() a batch at a time (ROWS_AT_ONCE), so the posts
    app's own path runs (its signals remove photo files once the transaction commits, and
    keep any file another post still uses). The user's row then cascades to
    their comments and likes (the counters on other people's posts follow
    through the same signals, once for the account: posts.signals.deleted_with), profile,
    e-mail addresses and authenticators.
    Finally every session signed in as the user is deleted, so every browser
    is logged out (and no session row mentions the account any more).
    The profile picture's files are released once the deletion commits, the same
    way as a post's (kept if a post or another avatar still uses them).
    """
    pk = user.pk
    with transaction.atomic():
        for batch in _post_batches(pk):
            Post.objects.filter(pk__in=batch).delete()
        profile = getattr(user, "profile", None)
        avatar = profile.avatar_names if profile else []
        user.delete()
        if avatar:
            transaction.on_commit(lambda: StoredFile.objects.release(avatar), robust=True)
    return end_sessions(pk)


def _post_batches(author_id):
    """Lists of the ids of `author_id`'s posts, each list's likes and comments summing to
    at most ROWS_AT_ONCE (or one post above it)."""
    posts = Post.objects.filter(author_id=author_id).order_by("pk")
    batch, rows = [], 0
    for pk, likes, comments in posts.values_list("pk", "like_count", "comment_count"):
        if batch and rows + likes + comments > ROWS_AT_ONCE:
            yield batch
            batch, rows = [], 0
        batch.append(pk)
        rows += likes + comments
    if batch:
        yield batch


def end_sessions(user_pk):
    """Delete every unexpired session whose signed-in user is `user_pk`; returns how many.

    Sessions keep the user id only inside their encoded data, so this decodes
    each live session once: O(live sessions), fine for an occasional erasure.
    Deleting through the session engine also drops a cached_db session's cache entry.
    """
    from django.conf import settings

    store_class = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator(chunk_size=500):
        data = session.get_decoded()
        if str(data.get("_auth_user_id")) == str(user_pk):
            store_class(session.session_key).delete()
            ended += 1
    return ended
