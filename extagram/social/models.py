"""The social layer: who follows whom, notifications, hashtags, and names to search.

Everything here points at the posts and accounts apps; nothing there points back,
except the feed and profile views asking for a member's home feed, profile numbers and
unread count.
"""

import contextvars
import functools
import secrets
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, Exists, F, Lookup, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from extagram.accounts.models import NoSuchMember, active_member
from extagram.core.statements import CompiledQuery
from extagram.posts.models import Comment, Like, Post

TAG_MAX = 64
# Notifications kept per member: the newest NOTIFICATIONS_KEPT, none older than
# NOTIFICATIONS_DAYS (pruned on write, see Notification.prune). 200 is a few weeks of
# a busy account's activity; older ones are not worth a row.
NOTIFICATIONS_KEPT = 200
NOTIFICATIONS_DAYS = 90
# The header shows "99+" beyond this: counting stops there, so a flood costs nothing.
UNREAD_SHOWN = 99


class FollowQuerySet(models.QuerySet):
    def followed_ids(self, user):
        """The ids of the people `user` follows, as a subquery (never fetched here)."""
        return self.filter(follower=user).values("followee_id")


class Follow(models.Model):
    """`follower` follows `followee`; at most once (unique), never oneself (check)."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="following_set"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="follower_set"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # copies of the two members' is_active (kept by save() and signals'
    # account_activity_changed, as Post.author_is_active is), so that a member's follow
    # counts read the follows' index alone: joined to the members, a count of 19,999
    # followers took 396-436 ms on MariaDB, read from the index 2.7-10.9 ms
    # (docs/performance.md, "Follow counts from the follows' index")
    follower_is_active = models.BooleanField(default=True, db_default=True, editable=False)
    followee_is_active = models.BooleanField(default=True, db_default=True, editable=False)

    objects = FollowQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(
                condition=~Q(follower=models.F("followee")),
                name="follow_not_oneself",
                violation_error_message=_("A member cannot follow themselves."),
            ),
        ]
        indexes = [
            # "who follows X", newest first (the followers list), and the count of the
            # active ones (the flag last: read from the index, the list's order kept)
            models.Index(
                fields=["followee", "-id", "follower_is_active"],
                name="follow_followee_newest_active",
            ),
            # "whom does X follow", newest first (the following list), and its count
            models.Index(
                fields=["follower", "-id", "followee_is_active"],
                name="follow_follower_newest_active",
            ),
        ]

    def __str__(self):
        return f"{self.follower} follows {self.followee}"

    def save(self, *args, update_fields=None, **kwargs):
        """Save, then copy both members' is_active when they may have changed (a new
        follow, or staff moving one to other members in the admin), read again in the
        save's transaction: staff may deactivate either member meanwhile (the members
        given were read before; signals.account_activity_changed then found no such
        follow), as Post.save does. This instance keeps the flags it had; a later full
        save copies them again."""
        super().save(*args, update_fields=update_fields, **kwargs)
        if update_fields is None or {"follower", "followee"} & set(update_fields):
            active = get_user_model().objects.filter(is_active=True)
            Follow.objects.filter(pk=self.pk).update(
                follower_is_active=Exists(active.filter(pk=self.follower_id)),
                followee_is_active=Exists(active.filter(pk=self.followee_id)),
            )

    @classmethod
    def follow(cls, follower, followee):
        """Make `follower` follow `followee`; True if this call created the follow.

        Idempotent: following twice, or twice at the same moment, leaves one row.
        Raises ValueError for following oneself (the view answers 400).
        """
        if follower.pk == followee.pk:
            raise ValueError("nobody follows themselves")
        try:
            with transaction.atomic():
                _, created = cls.objects.get_or_create(follower=follower, followee=followee)
        except IntegrityError:  # the same follow, inserted by a concurrent request
            return False
        return created

    @classmethod
    def unfollow(cls, follower, followee):
        """Stop following; True if a follow was removed (idempotent)."""
        deleted, _ = cls.objects.filter(follower=follower, followee=followee).delete()
        return bool(deleted)

    @classmethod
    def counts(cls, user):
        """{"followers": n, "following": n} for `user`, deactivated accounts not counted
        (their pages are gone: accounts.models.active_member); both 0 for an account
        deleted since it was read.

        The two numbers of the member's profile (profile_numbers, cached with the post
        and like totals): a follow's answer and the profile page after it share one
        statement and one cached value.
        """
        numbers = profile_numbers(user.pk)
        if numbers is None:
            return {"followers": 0, "following": 0}
        return {"followers": numbers.followers, "following": numbers.following}


def _total(rows, aggregate):
    """A subquery giving `aggregate` (Count, Sum) over `rows` (a values() queryset of one
    grouping column, correlated by OuterRef), 0 when there are none."""
    return Coalesce(Subquery(rows.order_by().annotate(n=aggregate).values("n")), 0)


def _follow_count_annotations():
    followers = Follow.objects.filter(followee=OuterRef("pk"), follower_is_active=True)
    following = Follow.objects.filter(follower=OuterRef("pk"), followee_is_active=True)
    return {
        # each a count read from one index (follow_followee_newest_active, ..._follower_...)
        "followers": _total(followers.values("followee"), Count("*")),
        "following": _total(following.values("follower"), Count("*")),
    }


# The stamp of every member's profile numbers (profile_numbers): replaced by an account
# deleted, deactivated or reactivated, a post or a follow changed in place (the admin can
# give it another author or other members) and inserts that send no signal of their own
# (seed_posts', seed_social's bulk_create). Each member's own (_profile_numbers_stamp_key):
# replaced by a post of theirs added or deleted, a like of one given or taken back, and a
# follow of or by them made or undone. What bypasses these (raw SQL) shows within
# PROFILE_NUMBERS_SECONDS.
PROFILE_NUMBERS_STAMP_KEY = "profile:numbers:stamp"
PROFILE_NUMBERS_SECONDS = 5 * 60


def _profile_numbers_stamp_key(user_id):
    return f"profile:numbers:stamp:{user_id}"


def profile_numbers_changed(*user_ids):
    """Mark these members' cached profile numbers (posts, likes received, followers,
    following) out of date, or every member's (none given): one replace_stamp each."""
    keys = [_profile_numbers_stamp_key(user_id) for user_id in user_ids]
    for key in keys or [PROFILE_NUMBERS_STAMP_KEY]:
        replace_stamp(key)


def profile_owner(handle, visitor):
    """The active member whose handle is `handle`, with their profile and the numbers
    their profile page shows: `post_total`, `like_total` (likes their posts have
    received), `followers` and `following` (as Follow.counts) and `follows_owner` (whether
    `visitor` follows them; False signed out and for oneself: nobody follows themselves).

    The member is one statement (active_member); the four numbers are profile_numbers
    (cached); the visitor's follow is one statement more when the visitor is signed in
    and not the owner.

    Raises NoSuchMember (an Http404) as accounts.models.active_member does, and when the
    account is deleted between the two reads.
    """
    owner = active_member(handle)
    numbers = profile_numbers(owner.pk)
    if numbers is None:  # the account was deleted since active_member read it
        raise NoSuchMember(handle)
    owner.post_total, owner.like_total, owner.followers, owner.following = numbers
    owner.follows_owner = bool(
        visitor.is_authenticated
        and visitor.pk != owner.pk
        and _FOLLOWS_OWNER.rows(visitor.pk, owner.pk)
    )
    return owner


class ProfileNumbers(NamedTuple):
    """The numbers a member's profile shows (profile_numbers)."""

    post_total: int
    like_total: int  # likes their posts have received
    followers: int
    following: int


class _AccountGone(Exception):
    pass


def profile_numbers(user_id):
    """ProfileNumbers of the member `user_id`, deactivated accounts not counted among
    followers and follows; None for an account that does not exist (nothing is cached).

    Cached (read_through) while the member's stamp and everyone's are unchanged
    (profile_numbers_changed), for PROFILE_NUMBERS_SECONDS at most; else one statement
    compiled once. Uncached, summing the likes of a member's 1,000 posts took 5-7 ms of the
    database's time, and counting 2,000 followers (each follow joined to its follower's
    row) 10 ms; both grow with them (docs/performance.md, "A profile's numbers, cached",
    "A profile's follower counts").
    """
    stamps = (PROFILE_NUMBERS_STAMP_KEY, _profile_numbers_stamp_key(user_id))

    def read():
        rows = _PROFILE_NUMBERS.rows(user_id)
        if not rows:
            raise _AccountGone
        return rows[0]

    try:
        numbers = read_through(f"profile:numbers:{user_id}", stamps, read, PROFILE_NUMBERS_SECONDS)
    except _AccountGone:
        return None
    return ProfileNumbers(*numbers)


def _profile_numbers(owner_id):
    posts = Post.objects.filter(author=OuterRef("pk")).values("author")
    # the likes one gives one's own posts are not received (they are in like_count)
    own_likes = Like.objects.filter(user=OuterRef("pk"), post__author=OuterRef("pk"))
    return (
        get_user_model()
        .objects.filter(pk=owner_id)
        .annotate(
            post_total=_total(posts, Count("*")),
            like_total=_total(posts, Sum("like_count"))
            - _total(own_likes.values("user"), Count("*")),
            **_follow_count_annotations(),
        )
        .values_list("post_total", "like_total", "followers", "following")
    )


_PROFILE_NUMBERS = CompiledQuery(_profile_numbers)
_FOLLOWS_OWNER = CompiledQuery(
    lambda follower_id, followee_id: Follow.objects.filter(
        follower_id=follower_id, followee_id=followee_id
    ).values_list("pk")
)


def all_posts():
    """Everyone's posts (Explore) but deactivated members', for PostQuerySet.page_ids."""
    return Post.objects.shown()


def home_posts(user):
    """The posts of `user`'s home feed: by the people they follow and their own.

    A Post queryset for PostQuerySet.page_ids (newest first, keyset). The
    followed ids stay a subquery; the plans on SQLite and MariaDB are in
    docs/performance.md.
    """
    return all_posts().filter(Q(author__in=Follow.objects.followed_ids(user)) | Q(author=user))


# The first page of a member's home feed is its most seen page, and its ids statement is
# the one part of it that costs more than Explore's: the primary key read backwards until
# 13 posts by followed authors turn up (~1,500 rows at 100,000 posts), plus building the
# filter (docs/performance.md, "The home feed's first page"). So its ids are cached, valid
# while two stamps are unchanged: every member's (a post added or removed anywhere) and the
# member's own (their follows changed). Explore's first page is cached against the first
# stamp alone (explore_page_ids). A stamp is replaced, never counted up, so two
# changes at once cannot cancel out, and it is replaced at once *and* when the transaction
# commits, so a feed read between the two is not kept as current.
HOME_POSTS_STAMP_KEY = "home:stamp:posts"
# How long cached ids may be used at most, whatever the stamps say: bounds what a change
# that bypasses the signals (a bulk insert that does not call home_feeds_changed) can hide.
HOME_IDS_SECONDS = 10 * 60


def _follows_stamp_key(user_id):
    return f"home:stamp:follows:{user_id}"


def _home_ids_key(user_id, size):
    return f"home:ids:{user_id}:{size}"


def home_feeds_changed(user_id=None):
    """Mark cached home feeds out of date: every member's (a post was added or removed;
    `user_id` None) or one member's (`user_id` followed or unfollowed someone)."""
    replace_stamp(HOME_POSTS_STAMP_KEY if user_id is None else _follows_stamp_key(user_id))


def replace_stamp(key):
    """Replace the stamp under `key` (a random token, kept until evicted): at once, and
    again when the current transaction commits, so a value read between the two is not kept
    as current (see read_through)."""

    def replace():
        cache.set(key, secrets.token_hex(8), None)

    replace()
    transaction.on_commit(replace)


def read_through(key, stamp_keys, read, seconds):
    """The value cached under `key` if it was read while the stamps under `stamp_keys` were
    what they are now (one cache round trip); otherwise `read()`, cached for at most
    `seconds` with the stamps it was read under. Any cache failure (Redis unreachable)
    falls back to read(). The stamps are read before the value, so a change that replaces
    a stamp (replace_stamp) after it is never hidden. Inside read_ahead(), the round trip
    may be shared with other keys' (they are read in the same MGET)."""
    found = _cache_read([*stamp_keys, key])
    stamps = tuple(found.get(stamp_key) for stamp_key in stamp_keys)
    cached = found.get(key)
    if cached is not None and None not in stamps and cached[0] == stamps:
        return cached[1]
    if None in stamps:  # a first start, or evicted: stamps to keep the value against
        for stamp_key, stamp in zip(stamp_keys, stamps, strict=True):
            # django-redis answers None for a cache it cannot reach: no second wait on it
            if stamp is None and cache.add(stamp_key, secrets.token_hex(8), None) is None:
                return read()
        found = cache.get_many(stamp_keys)
        stamps = tuple(found.get(stamp_key) for stamp_key in stamp_keys)
    value = read()
    if None not in stamps:
        cache.set(key, (stamps, value), seconds)
    return value


class _ReadAhead:
    def __init__(self, keys):
        self.keys = keys
        self.found = None  # {key: value} once read
        self.used = False


_READ_AHEAD = contextvars.ContextVar("extagram_read_ahead", default=None)


@contextmanager
def read_ahead(keys):
    """Within the block, the first read_through that goes to the cache also reads `keys`
    (a list of cache keys) in the same round trip, and the first read_through of those
    keys then takes what was read instead of a round trip of its own (once: a later one
    reads the cache). For a page that makes one read_through in its view and knows it will
    make another as it renders (a signed-in page's unread count, read_unread_count_ahead):
    a round trip to Redis cost the app ~0.14 ms of CPU measured alone, and a signed-in
    Explore 0.23 ms less with one fewer (docs/performance.md, '"3 minutes ago" worked out
    once a minute; one cache round trip less')."""
    token = _READ_AHEAD.set(_ReadAhead(list(keys)))
    try:
        yield
    finally:
        _READ_AHEAD.reset(token)


def _cache_read(keys):
    """cache.get_many(keys), sharing its round trip with a pending read_ahead()."""
    ahead = _READ_AHEAD.get()
    if ahead is None or ahead.used:
        return cache.get_many(keys)
    covered = set(keys) <= set(ahead.keys)
    if ahead.found is None:
        found = cache.get_many(list(dict.fromkeys([*keys, *ahead.keys])))
        ahead.found = {key: found[key] for key in ahead.keys if key in found}
        ahead.used = covered
        return {key: found[key] for key in keys if key in found}
    if covered:
        ahead.used = True
        return {key: ahead.found[key] for key in keys if key in ahead.found}
    return cache.get_many(keys)


def home_page_ids(user, cursor, size):
    """The ids of `user`'s home feed before `cursor` as PostQuerySet.page_ids gives them
    (newest first, up to `size` + 1: the last says whether more exist).

    The first page (cursor None) reads its ids from the cache when they are current (see
    HOME_POSTS_STAMP_KEY): one cache round trip instead of the ids statement.
    """
    if cursor is not None:
        return home_post_ids(user, cursor, size)
    return read_through(
        _home_ids_key(user.pk, size),
        (HOME_POSTS_STAMP_KEY, _follows_stamp_key(user.pk)),
        lambda: home_post_ids(user, None, size),
        HOME_IDS_SECONDS,
    )


# A home page is looked for first among this many of the site's newest posts (below the
# cursor): a member whose follows post often finds it there.
HOME_WINDOW = 6000
# ... and, when it holds part of a page, in at most HOME_MORE_WINDOWS more windows, sized
# from the share of the posts read that were the feed's, together at most HOME_REACH ids
HOME_REACH = 16_000
HOME_MORE_WINDOWS = 2


def home_post_ids(user, cursor, size):
    """The ids of `user`'s home feed before `cursor`, newest first, up to `size` + 1 (as
    PostQuerySet.page_ids gives them), read in a bounded number of rows whatever the site.

    One statement reads the home feed's posts among the HOME_WINDOW newest posts below the
    cursor. When the window holds part of a page, the share of its posts that were the
    feed's says how far below the rest lie: up to HOME_MORE_WINDOWS more windows read
    twice that far, HOME_REACH more ids at most (on seed_social's graph, 20,000 members
    following ~150 each, 100,000 posts: a page of 20 lay within the newest 6,000 posts for
    the ten members measured). When they are too few (the people the member follows
    seldom post), the rest come from the authors' own index instead of the whole site's:
    each followed author's newest post below the windows, the `size` + 1 authors whose
    newest is newest (the
    newest `size` + 1 posts can only be theirs or the member's own: any other author's
    newest post has `size` + 1 newer ones before it), then those authors' newest posts and
    the member's, merged. Read in one statement, MariaDB read the primary key backwards
    through every post on the site for a member following 3,000 accounts of which 5 post
    (150-200 ms a page at 100,000 posts; docs/performance.md, "A home feed of seldom
    posting follows").
    """
    wanted = size + 1
    top = cursor
    if top is None:
        # a number, not a subquery: MariaDB read the whole primary key for `id > (SELECT ...)`
        top = (Post.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    ids, below, floor = [], top, top - HOME_WINDOW
    for _window in range(1 + HOME_MORE_WINDOWS):
        found = home_posts(user).filter(id__gte=floor).page_ids(below, wanted - len(ids) - 1)
        ids += found
        # done when every post is read or a page is found; a window with none of the feed's
        # says nothing of how far the rest lie
        if floor <= 1 or len(ids) >= wanted or not found:
            break
        # the feed's share of the ids read says how far below the rest lie: a window of
        # twice that, if it is not too far (a member following many who post now and then)
        reach = 2 * (wanted - len(ids)) * (top - floor) // len(ids)
        if top - floor + reach > HOME_WINDOW + HOME_REACH:
            break
        below, floor = floor, floor - reach
    if len(ids) < wanted:
        # below the windows (all of the feed's posts in them are read)
        ids += _newest_of_followed_authors(user, floor, wanted - len(ids))
    return ids


def _newest_of_followed_authors(user, below, count):
    """The ids of `user`'s home feed posts below id `below`, newest first, at most `count`:
    one statement for the authors (each followed account's newest shown post below, looked
    up on its (author, -id) index), then one for the posts of each of the `count` authors
    whose newest is newest, and one for the member's own (on the same index)."""
    if below <= 1:
        return []
    theirs = Post.objects.shown().filter(author=OuterRef("followee_id"), id__lt=below)
    newest = Subquery(theirs.order_by("-id").values("id")[:1])
    follows = Follow.objects.filter(follower=user).annotate(newest=newest)
    authors = follows.filter(newest__isnull=False).order_by("-newest")
    ids = []
    for author_id in [*authors.values_list("followee_id", flat=True)[:count], user.pk]:
        posts = Post.objects.shown().filter(author_id=author_id, id__lt=below).order_by("-id")
        ids += posts.values_list("id", flat=True)[:count]
    return sorted(ids, reverse=True)[:count]


def explore_page_ids(cursor, size):
    """The ids of Explore's page before `cursor` (everyone's posts), as home_page_ids: the
    first page's ids are cached while no post is added or removed (HOME_POSTS_STAMP_KEY)."""
    if cursor is not None:
        return all_posts().page_ids(cursor, size)
    return read_through(
        f"explore:ids:{size}",
        (HOME_POSTS_STAMP_KEY,),
        lambda: all_posts().page_ids(None, size),
        HOME_IDS_SECONDS,
    )


class NotificationQuerySet(models.QuerySet):
    def shown(self):
        """The notifications a recipient may see: from an active member, about no post or a
        shown one (PostQuerySet.shown). The rest are from or about a member staff
        deactivated, and come back if staff reactivate them."""
        about_a_shown_post = Q(post__isnull=True) | Q(post__author_is_active=True)
        return self.filter(about_a_shown_post, actor__is_active=True)


class Notification(models.Model):
    """Something someone did to `recipient`'s things: liked, commented, followed, mentioned."""

    LIKE = "like"
    COMMENT = "comment"
    FOLLOW = "follow"
    MENTION = "mention"
    KINDS = [
        (LIKE, _("like")),
        (COMMENT, _("comment")),
        (FOLLOW, _("follow")),
        (MENTION, _("mention")),
    ]

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=KINDS)
    post = models.ForeignKey(Post, models.CASCADE, null=True, blank=True, related_name="+")
    comment = models.ForeignKey(Comment, models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read = models.BooleanField(default=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_newest"),
            models.Index(fields=["recipient", "read"], name="notification_unread"),
        ]

    def __str__(self):
        return f"{self.kind} for {self.recipient} from {self.actor}"

    @classmethod
    def notify(cls, recipient_id, actor_id, kind, post_id=None, comment_id=None):
        """Record one notification, unless the actor is the recipient; returns it or None.

        Then prunes the recipient's oldest ones (see `prune`): two indexed statements
        on a write that is rare next to page views.
        """
        if recipient_id is None or recipient_id == actor_id:
            return None
        notification = cls.objects.create(
            recipient_id=recipient_id,
            actor_id=actor_id,
            kind=kind,
            post_id=post_id,
            comment_id=comment_id,
        )
        cls.prune(recipient_id)
        return notification

    @classmethod
    def prune(cls, recipient_id, keep=NOTIFICATIONS_KEPT, days=NOTIFICATIONS_DAYS, batch=1000):
        """Delete the recipient's notifications beyond the newest `keep` or older than `days`,
        at most `batch` of them (the oldest) a call."""
        mine = cls.objects.filter(recipient_id=recipient_id)
        cutoff = list(mine.order_by("-id").values_list("id", flat=True)[keep : keep + 1])
        old = Q(created_at__lt=timezone.now() - timedelta(days=days))
        if cutoff:
            old |= Q(id__lte=cutoff[0])
        # By id: MariaDB refuses a DELETE whose condition reads the same table twice. The
        # oldest first, so that what is left is always the newest (in the model's default
        # order, newest first, each round deleted the newest of those past the cutoff: a gap
        # in the middle of the list)
        ids = list(mine.filter(old).order_by("id").values_list("id", flat=True)[:batch])
        if ids:
            cls.objects.filter(id__in=ids).delete()

    @classmethod
    def mark_read(cls, user, ids=None):
        """Mark `user`'s notifications with these ids (a list; None: every one, those the
        list has not shown yet too) read; the count marked (an int)."""
        unread = cls.objects.filter(recipient=user, read=False)
        if ids is not None:
            unread = unread.filter(id__in=ids)
        marked = unread.update(read=True)
        if marked:
            notifications_changed(user.pk)  # update() sends no signal
        return marked

    @classmethod
    def unread_count(cls, user):
        """How many unread notifications `user` has, counted up to UNREAD_SHOWN + 1.

        It is in every signed-in page's header, so it is cached (read_through) while the
        member's notifications stamp is unchanged (notifications_changed: any notification
        of theirs saved or deleted, or marked read) and the stamp of bulk inserts; else the
        ids of at most that many shown ones (NotificationQuerySet.shown: each row's actor
        and post looked up by primary key) are read from the (recipient, read) index by a
        statement compiled once.
        """
        key, stamp_keys = _unread_keys(user.pk)
        return read_through(key, stamp_keys, lambda: len(_UNREAD_IDS.rows(user.pk)), UNREAD_SECONDS)


def _unread_keys(user_id):
    """The cache key of member `user_id`'s unread count and the keys of its stamps."""
    return (
        f"notifications:unread:{user_id}",
        (NOTIFICATIONS_STAMP_KEY, _notifications_stamp_key(user_id)),
    )


def read_unread_count_ahead(user):
    """read_ahead() of `user`'s unread count (a context manager; nothing for a visitor):
    for a view whose page reads a cached value before it renders the header."""
    if not user.is_authenticated:
        return read_ahead([])
    key, stamp_keys = _unread_keys(user.pk)
    return read_ahead([*stamp_keys, key])


# The stamp of every member's unread count: replaced by inserts that send no signal
# (seed_social's bulk_create). Each member's own stamp: _notifications_stamp_key.
NOTIFICATIONS_STAMP_KEY = "notifications:stamp"
# How long a cached unread count may be used at most, whatever the stamps say: bounds what
# a change that bypasses the signals and the stamps can hide.
UNREAD_SECONDS = 10 * 60


def _notifications_stamp_key(user_id):
    return f"notifications:stamp:{user_id}"


def notifications_changed(user_id=None):
    """Mark cached unread counts out of date: `user_id`'s (one of their notifications was
    added, deleted or read) or, with None, everyone's (notifications inserted in bulk)."""
    if user_id is None:
        replace_stamp(NOTIFICATIONS_STAMP_KEY)
    else:
        replace_stamp(_notifications_stamp_key(user_id))


_UNREAD_IDS = CompiledQuery(
    lambda user_id: (
        Notification.objects.filter(recipient_id=user_id, read=False)
        .shown()
        .values_list("id")[: UNREAD_SHOWN + 1]
    ),
    in_written_order=True,  # as the list's (notification_items._NEWEST)
)


class Tag(models.Model):
    """A hashtag; `name` is the canonical form (text.canonical_tag), without the #."""

    # utf8mb4_bin on MariaDB/MySQL (migration 0003): names are canonical, so compared exactly
    name = models.CharField(max_length=TAG_MAX, unique=True)
    # the name folded by text.search_key (no accents): search finds #café when asked "cafe".
    # Empty for a tag a version before it made (a rolling deploy): link_post_tags fills it
    key = models.CharField(max_length=TAG_MAX, db_index=True, db_default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"#{self.name}"

    def save(self, *args, **kwargs):
        """Saved with its search key (from `name`); a bulk_create must set `key` itself."""
        from .text import search_key  # text imports this module

        self.key = search_key(self.name)[:TAG_MAX]
        super().save(*args, **kwargs)


class PostTag(models.Model):
    """Post `post` is found under tag `tag`: the tag is in its caption or in a comment its
    author wrote on it (text.post_tags_of; kept in step by signals.sync_tags and the comments'
    receivers beside it)."""

    post = models.ForeignKey(Post, models.CASCADE, related_name="post_tags")
    tag = models.ForeignKey(Tag, models.CASCADE, related_name="post_tags")

    class Meta:
        constraints = [
            # Also the tag page's index: tag_id = X AND post_id < cursor ORDER BY post_id DESC
            models.UniqueConstraint(fields=["tag", "post"], name="tag_post_once"),
        ]

    def __str__(self):
        return f"#{self.tag_id} on {self.post_id}"


def link_post_tags(post_id, wanted, linked, tag_model, post_tag_model):
    """Make post `post_id`'s tag rows exactly `wanted` (a set of canonical tag names),
    given `linked` ({name: PostTag id} as they are); the count of rows deleted and added.

    The models are passed in so that migrations can use their historical ones
    (signals.sync_tags passes Tag and PostTag)."""
    gone = [row_id for name, row_id in linked.items() if name not in wanted]
    changed = post_tag_model.objects.filter(id__in=gone).delete()[0] if gone else 0
    for name in wanted - linked.keys():
        tag, _ = tag_model.objects.get_or_create(name=name)
        if getattr(tag, "key", None) == "":  # made by an earlier version: Tag.save folds it
            tag.save(update_fields=["key"])
        post_tag_model.objects.get_or_create(post_id=post_id, tag=tag)
        changed += 1
    return changed


def tag_named(name):
    """The Tag whose (canonical) name is `name`, or None: one statement, compiled once."""
    found = _TAG_NAMED.instances(name, limit=1)
    # exactly: MariaDB's utf8mb4_bin still ignores trailing spaces ("sunset " is "sunset")
    return found[0] if found and found[0].name == name else None


def tagged_page_ids(tag, cursor, size):
    """The ids of one keyset page of the posts tagged `tag`, newest first, as
    PostQuerySet.page_ids gives them, a deactivated member's left out (PostQuerySet.shown):
    one statement on PostTag's (tag, post) index, each post's flag read by primary key,
    compiled once (extagram.core.statements)."""
    args = (tag.pk,) if cursor is None else (tag.pk, cursor)
    return [post_id for (post_id,) in _TAGGED.rows(*args, limit=size + 1)]


def _tagged(tag_id, cursor=None):
    ids = PostTag.objects.filter(tag_id=tag_id, post__author_is_active=True)
    if cursor is not None:
        ids = ids.filter(post_id__lt=cursor)
    return ids.order_by("-post_id").values_list("post_id")


_TAGGED = CompiledQuery(_tagged)
_TAG_NAMED = CompiledQuery(lambda name: Tag.objects.filter(name=name))


class FoundTag(NamedTuple):
    """A tag search found (tags_matching): its canonical name and its search key."""

    name: str
    key: str

    def starts_with(self, key, prefix):
        """Whether this tag's search key starts with `key` (a search_key), or, for a tag
        an earlier version made without a key, its name with `prefix`: a bool."""
        return self.key.startswith(key) if self.key else self.name.startswith(prefix)


# tags_matching reads at most this many times `count` rows to make up for over-matches
# and for tags no shown post carries
OVER_MATCH_READ = 64


def tags_matching(prefix, count):
    """The first `count` tags by name whose name starts with `prefix` (a search's text
    without its "#"), matched without case or accents (text.search_key: "cafe" finds
    #café), that some shown post carries (a tag page with nothing is no answer): a list
    of FoundTags.

    Two statements, each planned on its own (docs/performance.md, "Tag search's plan"):
    the tags whose name matches, by name, then which of them a shown post carries
    (shown_tag_ids). When some did not count (MariaDB's collation over-matched, or no shown
    post carries them) both run again for 4x more tags, up to OVER_MATCH_READ x count."""
    from .text import search_key  # text imports this module

    key = search_key(prefix)
    patterns = prefix_pattern(key), prefix_pattern(prefix)
    if None in patterns:  # an empty prefix, or one holding a NUL: nothing matches
        return []
    limit, checked, shown = count, 0, set()
    while True:
        rows = _TAGS_MATCHING.rows(*patterns, limit=limit)
        # MariaDB's collation matches more than the prefix (its digits of every script are
        # one: "3" matches #٣abc): those rows are dropped here
        candidates = [(tag_id, FoundTag(name, tag_key)) for tag_id, name, tag_key in rows]
        candidates = [(tag_id, tag) for tag_id, tag in candidates if tag.starts_with(key, prefix)]
        shown |= shown_tag_ids([tag_id for tag_id, _ in candidates[checked:]])
        checked = len(candidates)
        tags = [tag for tag_id, tag in candidates if tag_id in shown]
        if len(tags) >= count or len(rows) < limit or limit >= OVER_MATCH_READ * count:
            return tags[:count]
        limit *= 4


def _tags_matching(key_pattern, name_pattern):
    # a tag an earlier version made has no key yet (a rolling deploy): found by its name
    matching = prefix_filter("key", key_pattern) | Q(key="") & prefix_filter("name", name_pattern)
    return Tag.objects.filter(matching).order_by("name", "id").values_list("id", "name", "key")


_TAGS_MATCHING = CompiledQuery(_tags_matching)


def shown_tag_ids(tag_ids):
    """Those of `tag_ids` (a list of Tag ids) that some shown post carries
    (PostQuerySet.shown): a set. One statement, none for an empty list.

    The statement is a UNION ALL of one uncorrelated EXISTS per id, each reading that tag's
    rows first, in the order they are stored, until one is a shown post's. One correlated
    EXISTS over all the matching tags (MariaDB makes it a semi-join) read every tagged post
    when a short prefix matched seldom used tags (400,056 rows for "t" at 100,000 posts);
    left to choose, MariaDB read a tag on half the posts from the posts' side (100,006
    rows), as it had a dependent subquery with LIMIT 1 (docs/performance.md, "Tag
    search's plan")."""
    if not tag_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join([_shown_tag_sql()] * len(tag_ids)),
            [value for tag_id in tag_ids for value in (tag_id, tag_id)],
        )
        return {tag_id for (tag_id,) in cursor.fetchall()}


@functools.cache
def _shown_tag_sql():
    """One id's part of shown_tag_ids' statement (its two parameters: the id, twice).
    MariaDB and MySQL's STRAIGHT_JOIN reads its left table first (https://mariadb.com/kb/en/join-syntax/);
    SQLite plans a join on a constant from its index on its own."""
    quote = connection.ops.quote_name
    post_tag, post = quote(PostTag._meta.db_table), quote(Post._meta.db_table)
    join = "STRAIGHT_JOIN" if connection.vendor == "mysql" else "INNER JOIN"
    return (
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {post_tag} pt {join} {post} p"  # noqa: S608 -- the models' tables
        " ON p.id = pt.post_id WHERE pt.tag_id = %s AND p.author_is_active)"
    )


class SearchName(models.Model):
    """A member's display name folded by text.search_key (no case, no accents), for prefix
    search (kept by signals)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="+"
    )
    key = models.CharField(max_length=100, db_index=True)

    def __str__(self):
        return self.key


def prefix_pattern(prefix):
    """The pattern prefix_filter takes for the values that start with `prefix` (a str,
    already case-folded), or None for an empty prefix (a query of only accents, folded
    away) or one holding a NUL (which no stored value does), which match nothing. The
    pattern is the statement's parameter as it is, so that a statement using it can be
    compiled once (extagram.core.statements).

    MariaDB: a LIKE pattern, `prefix%` with `\\`, `%` and `_` escaped (Django's own
    escaping, `prep_for_like_query`). SQLite: a GLOB pattern, `prefix*` with `*`, `?` and
    `[` each in brackets (https://sqlite.org/lang_expr.html#glob).
    """
    if not prefix or "\x00" in prefix:  # no value holds a NUL (and GLOB's pattern ends there)
        return None
    if connection.vendor == "sqlite":
        for special in "[*?":  # "[" first: the others' escapes hold one
            prefix = prefix.replace(special, f"[{special}]")
        return prefix + "*"
    return connection.ops.prep_for_like_query(prefix) + "%"


def prefix_filter(field, pattern):
    """A Q matching `field` values that match `pattern` (prefix_pattern), read from
    `field`'s index: MariaDB uses one for a LIKE with a leading literal (its
    case-insensitive collation: Django's istartswith, not startswith, whose LIKE BINARY
    skips the index); SQLite for a GLOB on a column of the default BINARY collation
    (https://sqlite.org/optoverview.html#the_like_optimization; not for LIKE, which
    folds case). The stored values are case-folded, so both find the same set."""
    return Q(_Matches(F(field), pattern))


class _Matches(Lookup):
    """`field LIKE pattern` (MariaDB) or `field GLOB pattern` (SQLite), the pattern passed
    to the database as it is (Django's lookups escape and wrap their argument)."""

    lookup_name = "matches"
    prepare_rhs = False

    def as_sql(self, compiler, connection, operator="LIKE"):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {operator} {rhs}", [*lhs_params, *rhs_params]

    def as_sqlite(self, compiler, connection):
        return self.as_sql(compiler, connection, operator="GLOB")
