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

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from extagram.accounts.models import shown_as
from extagram.core.memo import FragmentCache, key_release, row_key
from extagram.core.statements import CompiledQuery
from extagram.core.times import time_ago
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
        shown = (self.username, self.display_name, self.avatar_small, self.comment_body)
        return row_key(release, self.pk, self.created_at, *shown)

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
        args = (recipient_id,) if cursor is None else (recipient_id, cursor)
        return [cls._make(row) for row in _NEWEST.rows(*args, limit=count)]


def _newest(recipient_id, cursor=None):
    mine = Notification.objects.filter(recipient_id=recipient_id).shown()
    if cursor is not None:
        mine = mine.filter(id__lt=cursor)
    return mine.order_by("-id").values_list(
        "pk",
        "read",
        "created_at",
        "actor__username",
        "actor__profile__display_name",
        "actor__profile__avatar_small",
        "comment__body",
    )


# from the recipient's rows (notification_newest) to their actors, never the other way
_NEWEST = CompiledQuery(_newest, in_written_order=True)
_NOTIFICATIONS_IN_FULL = CompiledQuery(
    lambda ids: Notification.objects.select_related("actor__profile", "comment").filter(pk__in=ids)
)


def _release():
    return key_release("notification", 1)  # the number changes with the markup


def notification_items(rows):
    """The page's items for these rows (NotificationRows, in page order): a list of
    {"html": safe HTML, "was_unread": bool}; a notification deleted meanwhile is left out.
    At most one cache round trip (none when this process has them all) and one statement
    for the items not kept, which are rendered and kept."""
    release, when = _release(), mark_safe(WHEN_SLOT)  # noqa: S308 -- a fixed marker

    def render(n):  # kept under the key of what it shows
        html = render_to_string("social/_notification.html", {"n": n, "when": when})
        return NotificationRow.of(n).key(release), html

    keys = [row.key(release) for row in rows]
    found = NOTIFICATION_FRAGMENTS.get_or_render(
        rows, keys, _NOTIFICATIONS_IN_FULL.instances, render
    )
    return [
        {
            "html": mark_safe(  # noqa: S308 -- a rendered, escaped template and an escaped time
                html.replace(WHEN_SLOT, time_ago(row.created_at), 1)
            ),
            "was_unread": not row.read,
        }
        for row, html in found
    ]
