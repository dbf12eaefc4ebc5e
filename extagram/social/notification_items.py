"""The notifications page's items, each rendered once and kept (FragmentCache), as post
cards and comments are.

An item's HTML (who did what, the comment's opening words, the link to the post) is the
same each time it is shown except its relative time, which is put in per request (the
page's loop adds the "unread" mark). Its key names everything else it shows: the
notification's id and time (its kind, post and comment never change), the actor's handle,
display name and picture, the comment's text (staff can edit it), the language and the
script prefix. Rendered in full, a page of 50 took ~17 ms of CPU; see docs/performance.md,
"The notifications page".
"""

from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from extagram.accounts.models import shown_as
from extagram.core.memo import FragmentCache, fingerprint
from extagram.core.statements import CompiledQuery
from extagram.posts.cards import CARD_SECONDS

from .models import Notification

WHEN_SLOT = "<!--extagram:notification-when-->"
# 364 bytes an item (measured on the social shape): ~3 MB a process at most.
NOTIFICATION_FRAGMENTS = FragmentCache(kept=8192, seconds=CARD_SECONDS)


class NotificationRow(NamedTuple):
    """What the page needs of a notification whose HTML is kept: its key's parts and
    whether it was read. One values() row per notification (NotificationRow.newest)."""

    pk: int
    read: bool
    created_at: datetime
    username: str
    display_name: str | None
    avatar_small: str | None
    comment_body: str | None

    def key(self, release):
        """The item's key in NOTIFICATION_FRAGMENTS, after `release` (_release())."""
        # with its time: an id used again (a database restored from a backup) is a new key
        when = int(self.created_at.timestamp() * 1_000_000)
        shown = fingerprint(self.username, self.display_name, self.avatar_small, self.comment_body)
        return f"{release}:{self.pk}:{when}:{shown}"

    @classmethod
    def of(cls, notification):
        """The row of `notification` (with its actor, the actor's profile and its comment)."""
        n, comment = notification, notification.comment
        body = comment.body if comment else None
        return cls(n.pk, n.read, n.created_at, *shown_as(n.actor), body)

    @classmethod
    def newest(cls, recipient_id, cursor, count):
        """The rows of `recipient_id`'s newest `count` notifications with an id below
        `cursor` (None: from the newest), newest first. One statement, compiled once for
        each count and kind of cursor."""
        query = _page_query(count, cursor is not None)
        args = (recipient_id,) if cursor is None else (recipient_id, cursor)
        return [cls._make(row) for row in query.rows(*args)]


_FIELDS = (
    "pk",
    "read",
    "created_at",
    "actor__username",
    "actor__profile__display_name",
    "actor__profile__avatar_small",
    "comment__body",
)
_PAGE_QUERIES = {}


def _page_query(count, after_cursor):
    # A LIMIT is part of the compiled SQL, not a parameter: one statement for each count.
    key = (count, after_cursor)
    if key not in _PAGE_QUERIES:

        def build(recipient_id, cursor=None):
            mine = Notification.objects.filter(recipient_id=recipient_id)
            if after_cursor:
                mine = mine.filter(id__lt=cursor)
            return mine.order_by("-id").values_list(*_FIELDS)[:count]

        _PAGE_QUERIES[key] = CompiledQuery(build)
    return _PAGE_QUERIES[key]


_NOTIFICATIONS_IN_FULL = CompiledQuery(
    lambda ids: Notification.objects.select_related("actor__profile", "comment").filter(pk__in=ids)
)


def _release():
    # The literal changes with the markup; the version keeps a deploy's old and new replicas
    # (sharing Redis) apart; the links carry the script prefix, which may differ by request.
    return f"notification:1:{settings.VERSION}:{translation.get_language()}:{get_script_prefix()}"


def notification_items(rows):
    """The page's items for these rows (NotificationRows, in page order): a list of
    {"html": safe HTML, "was_unread": bool}; a notification deleted meanwhile is left out.
    At most one cache round trip (none when this process has them all) and one statement
    for the items not kept, which are rendered and kept."""
    release = _release()
    keys = [row.key(release) for row in rows]
    html = NOTIFICATION_FRAGMENTS.get_many(keys)
    missing = {row.pk: key for row, key in zip(rows, keys, strict=True) if key not in html}
    if missing:
        when, fresh = mark_safe(WHEN_SLOT), {}  # noqa: S308 -- a fixed marker
        for n in _NOTIFICATIONS_IN_FULL.instances(list(missing)):
            fragment = render_to_string("social/_notification.html", {"n": n, "when": when})
            # kept under the key of what it shows (it may have changed since its row was
            # read), shown on this page in its row's place
            fresh[NotificationRow.of(n).key(release)] = fragment
            html[missing[n.pk]] = fragment
        NOTIFICATION_FRAGMENTS.keep(fresh)
    return [
        {
            "html": mark_safe(  # noqa: S308 -- a rendered, escaped template and an escaped time
                html[key].replace(WHEN_SLOT, conditional_escape(naturaltime(row.created_at)), 1)
            ),
            "was_unread": not row.read,
        }
        for row, key in zip(rows, keys, strict=True)
        if key in html
    ]
