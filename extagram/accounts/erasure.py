"""Delete an account and everything that belongs to it (GDPR art. 17, erasure)."""

import logging
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.module_loading import import_string

from extagram.core.batches import each_row
from extagram.posts.models import Comment, Like, Post
from extagram.posts.signals import take_from_counts
from extagram.social.models import Follow, Notification

from .models import PendingErasure, lock_member

log = logging.getLogger(__name__)

# The account's rows are deleted a batch at a time, each batch about this many rows (a post
# counts with its likes and comments, which go with it; one post with more goes alone):
# Django's deletion loads every row it deletes as a model instance, so the batch bounds
# the worker's memory.
ROWS_AT_ONCE = 5000
SESSIONS_AT_ONCE = 500  # live sessions read per statement to find the account's
# An account's deletion that met a row written meanwhile is tried again (_erase_claimed).
ERASURE_ATTEMPTS = 3
ERASURE_RETRY_WAIT = 2.0  # seconds


def close_account(user):
    """A member's deletion of their own account, the part done before the answer: the
    account closed (is_active false, so its posts, likes and comments leave every page and
    count at once: posts.signals.activity_changed), marked (PendingErasure) and signed
    out everywhere. Its data is deleted once this commits, on a thread of its own
    (erase_soon): delete_account takes seconds to minutes (~74 s for 10,000 posts with
    100,000 likes, past the proxy's 60-s wait for an answer). Returns the number of
    sessions ended. The caller logs the request's own session out first (a write, which on
    SQLite could not be made while the thread deletes). An account closed already (the
    same form sent twice at once: a double click) is left as it is: 0; the second request
    failed with a 500 when the first's deletion had finished meanwhile."""
    with transaction.atomic():
        lock_member(user.pk)
        account = get_user_model().objects.filter(pk=user.pk)
        if not account.exists() or PendingErasure.objects.filter(user_id=user.pk).exists():
            return 0
        user.is_active = False
        user.save(update_fields=["is_active"])
        PendingErasure.objects.get_or_create(user=user)
        pk = user.pk
        # before the commit starts the thread: on SQLite its transaction holds the one
        # write lock until it is done, and a write after it waited and failed
        ended = end_sessions(pk)
        transaction.on_commit(lambda: erase_soon(pk))
    return ended


def erase_soon(user_pk):
    """erase_pending(user_pk) on a daemon thread of its own (settings.ERASURE_IN_BACKGROUND;
    here and now when false, as the tests run it). A thread that dies with its process (a
    deploy, an OOM kill) rolls its transaction back and leaves the PendingErasure, which
    the periodic sweep (posts.middleware.MediaSweepMiddleware) finishes."""
    if not settings.ERASURE_IN_BACKGROUND:
        erase_pending(user_pk)
        return
    thread = threading.Thread(
        target=_erase_on_this_thread, args=(user_pk,), name="account-erasure", daemon=True
    )
    thread.start()


def _erase_on_this_thread(user_pk):
    try:
        erase_pending(user_pk)
    except Exception:
        log.exception("deleting account %s failed; the periodic sweep retries it", user_pk)
    finally:
        connections.close_all()  # this thread's own


def erase_pending(user_pk=None, requested_before=None):
    """Finish the deletions members asked for (PendingErasure): each account deleted by
    delete_account in a transaction of its own, the oldest first; only `user_pk`'s if
    given, only those asked before the datetime `requested_before` if given (the sweep's,
    which leaves the recent ones to their threads). Each is claimed with SELECT ... FOR
    UPDATE SKIP LOCKED, so two runners never delete one account at once (MariaDB; SQLite
    runs one writing transaction at a time). Returns the number of accounts deleted."""
    pending = PendingErasure.objects.order_by("requested_at")
    if user_pk is not None:
        pending = pending.filter(user_id=user_pk)
    if requested_before is not None:
        pending = pending.filter(requested_at__lt=requested_before)
    deleted = 0
    for pk in list(pending.values_list("user_id", flat=True)):
        try:
            deleted += _erase_claimed(pk)
        except Exception:  # one account's failure holds up no other
            if user_pk is not None:
                raise
            log.exception("deleting account %s failed; the next sweep retries it", pk)
    return deleted


def _erase_claimed(pk):
    """Delete the account `pk` if this runner claims its PendingErasure: 1, else 0.

    A request the member sent before closing the account may still be writing (an
    upload takes seconds): its row, committed after this deletion had collected the
    account's rows, made MariaDB refuse the user's deletion (error 1451, a foreign key),
    so the deletion is tried again after ERASURE_RETRY_WAIT seconds, ERASURE_ATTEMPTS
    times in all; the last IntegrityError is raised."""
    for attempt in range(1, ERASURE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                claimed = PendingErasure.objects.select_for_update(skip_locked=True)
                found = claimed.filter(user_id=pk).first()
                user = get_user_model().objects.filter(pk=pk).first() if found else None
                if user is None:  # another runner's, or done meanwhile
                    return 0
                delete_account(user)
                return 1
        except IntegrityError:
            if attempt == ERASURE_ATTEMPTS:
                raise
            log.info("account %s had a row added while it was deleted; again", pk)
            time.sleep(ERASURE_RETRY_WAIT)
    return 0


def delete_account(user):
    """Remove `user` and all of their data; returns the number of sessions ended.

    Their posts, then the likes, comments, follows and notifications they gave or
    received, are deleted a batch at a time (ROWS_AT_ONCE) as parts of the account's
    deletion: Django's deletion signals name the user as their `origin`, so the receivers
    do once for the account what they would do per row (posts.signals.deleted_with):
    the posts' photo files are released once the transaction commits (kept if another
    post still uses them), the counts of the posts they liked and commented on are taken
    down first (take_from_counts), every member's cached counts are renewed at the end.
    The user's row then goes with their profile, e-mail addresses and authenticators.
    Finally every session signed in as the user is deleted, so every browser
    is logged out (and no session row mentions the account any more).
    The profile picture's files are released once the deletion commits, the same
    way as a post's (accounts.signals.release_avatar_files).
    """
    pk = user.pk
    with transaction.atomic():
        for batch in _post_batches(pk):
            _delete_as_part_of(user, Post.objects.filter(pk__in=batch))
        take_from_counts(user)
        for rows in (
            Like.objects.filter(user_id=pk),
            Comment.objects.filter(author_id=pk),
            Follow.objects.filter(Q(follower_id=pk) | Q(followee_id=pk)),
            Notification.objects.filter(Q(recipient_id=pk) | Q(actor_id=pk)),
        ):
            _delete_in_batches(user, rows)
        user.delete()
    return end_sessions(pk)


def _delete_as_part_of(user, queryset):
    """Delete `queryset`'s rows and what cascades from them, with `user` as the deletion
    signals' origin (as a cascade of user.delete() would)."""
    collector = Collector(using=queryset.db, origin=user)
    collector.collect(queryset)
    collector.delete()


def _delete_in_batches(user, queryset):
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:ROWS_AT_ONCE]):
        _delete_as_part_of(user, queryset.model.objects.filter(pk__in=ids))


def _post_batches(author_id):
    """Lists of the ids of `author_id`'s posts, each list's posts, likes and comments
    summing to at most ROWS_AT_ONCE rows (or one post above it)."""
    posts = Post.objects.filter(author_id=author_id)
    posts = posts.values_list("pk", "like_count", "comment_count")
    batch, rows = [], 0
    for pk, likes, comments in each_row(posts, ROWS_AT_ONCE):
        if batch and rows + 1 + likes + comments > ROWS_AT_ONCE:
            yield batch
            batch, rows = [], 0
        batch.append(pk)
        rows += 1 + likes + comments
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
    for session in each_row(live, SESSIONS_AT_ONCE):
        data = session.get_decoded()
        if str(data.get("_auth_user_id")) == str(user_pk):
            store_class(session.session_key).delete()
            ended += 1
    return ended
