"""A post page's comments, each rendered once and kept (FragmentCache), as post cards are.

A comment's HTML is the same for every visitor except its relative time ("3 minutes ago",
which changes by itself) and its delete button (shown to the comment's author and the
post's author, with the visitor's CSRF token), so it is kept with a marker where each goes
and both are put in per request. Its key names everything else it shows: the comment's id,
time and text (its author cannot edit it; staff can, in the admin), its author's handle,
display name and picture, the language and the script prefix. A page of 200 comments
rendered in full took 109 ms of CPU; see docs/performance.md, "A post page's comments".
"""

from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe

from extagram.accounts.models import shown_as
from extagram.core.context_processors import page_csrf_token
from extagram.core.memo import FragmentCache, key_release, row_key
from extagram.core.statements import CompiledQuery
from extagram.core.times import time_ago

from .cards import CARD_SECONDS
from .models import Comment

# A post page shows its newest comments, at most this many; a link leads to the older ones.
COMMENTS_SHOWN = 200
WHEN_SLOT = "<!--extagram:comment-when-->"
DELETE_SLOT = "<!--extagram:comment-delete-->"
_SLOTS = (mark_safe(WHEN_SLOT), mark_safe(DELETE_SLOT))  # noqa: S308 -- fixed markers
# 578 bytes a comment on average (the social shape's seeded comments): ~5 MB a process.
COMMENT_FRAGMENTS = FragmentCache(kept=8192, seconds=CARD_SECONDS)
# A stand-in comment id for the delete button's template, a number no comment has.
STAND_IN_PK = 9_087_654_321_012_345


class CommentRow(NamedTuple):
    """What a post page needs of a comment whose HTML is kept: its key's parts, its
    author (for the delete button) and its time. One values() row per comment
    (comments_html), not a Comment with its author and profile."""

    pk: int
    author_id: int
    created_at: datetime
    username: str
    display_name: str | None
    avatar_small: str | None
    body: str

    def key(self, release):
        """The comment's key in COMMENT_FRAGMENTS, after `release` (_release())."""
        shown = (self.username, self.display_name, self.avatar_small, self.body)
        return row_key(release, self.pk, self.created_at, *shown)

    @classmethod
    def of(cls, comment):
        """The row of `comment` (a Comment with its author and the author's profile)."""
        author = shown_as(comment.author)
        return cls(comment.pk, comment.author_id, comment.created_at, *author, comment.body)


def _release():
    return key_release("comment", 1)  # the number changes with the markup


class CommentsPage(NamedTuple):
    """A post page's comments (comments_html): their HTML, one safe string of `<li>`s
    ("" for none), and the cursor of the older ones (None when there are none)."""

    html: str
    older: int | None


def _newest(post_id, cursor=None):
    shown = Comment.objects.filter(post_id=post_id, author__is_active=True)
    if cursor is not None:
        shown = shown.filter(id__lt=cursor)
    return shown.order_by("-id").values_list(
        "pk",
        "author_id",
        "created_at",
        "author__username",
        "author__profile__display_name",
        "author__profile__avatar_small",
        "body",
    )


_NEWEST = CompiledQuery(_newest)


def comments_html(request, post, cursor=None):
    """The newest COMMENTS_SHOWN comments on `post` (a Post) with an id below `cursor`
    (None: from the newest), oldest first, as this visitor sees them: a CommentsPage.
    One statement and at most one cache round trip (none when this process has them
    all); a comment not kept is read in full, rendered and kept."""
    args = (post.pk,) if cursor is None else (post.pk, cursor)
    newest = _NEWEST.rows(*args, limit=COMMENTS_SHOWN + 1)
    older = newest[COMMENTS_SHOWN - 1][0] if len(newest) > COMMENTS_SHOWN else None
    rows = [CommentRow._make(row) for row in reversed(newest[:COMMENTS_SHOWN])]
    if not rows:  # no cache read, no delete button rendered
        return CommentsPage(mark_safe(""), None)  # noqa: S308 -- empty
    release = _release()

    def render(comment):  # kept under the key of what it shows
        return CommentRow.of(comment).key(release), render_comment(comment, *_SLOTS)

    keys = [row.key(release) for row in rows]
    found = COMMENT_FRAGMENTS.get_or_render(rows, keys, Comment.in_id_order, render)
    buttons = DeleteButtons(request, post, cursor)
    shown = [
        html.replace(WHEN_SLOT, time_ago(row.created_at), 1).replace(
            DELETE_SLOT, buttons.render(row), 1
        )
        for row, html in found
    ]
    return CommentsPage(mark_safe("".join(shown)), older)  # noqa: S308 -- rendered, escaped


def render_comment(comment, when, delete_button):
    """`posts/_comment.html` for `comment` (a Comment with its author and the author's
    profile), its relative time `when` and its `delete_button` (safe HTML, or "")."""
    context = {"comment": comment, "when": when, "delete_button": delete_button}
    return render_to_string("posts/_comment.html", context)


class DeleteButtons:
    """This visitor's comment delete buttons for one page of `post` (the page of older
    comments before comment id `cursor`, None for the newest): `_comment_delete.html`
    rendered once with a stand-in comment and the page's CSRF token, then each comment's
    id put in place; "" for a comment the visitor may not delete (Comment.deletable).
    A deletion comes back to the same page (the form's URL carries `cursor`)."""

    def __init__(self, request, post, cursor=None):
        self.user_id, self.post_author_id = request.user.pk, post.author_id
        self.stamp = None
        if request.user.is_authenticated:
            context = {
                "comment": SimpleNamespace(pk=STAND_IN_PK),
                "csrf_token": page_csrf_token(request),
                "before": cursor,
            }
            self.stamp = get_template("posts/_comment_delete.html").render(context)
            # the stand-in's id comes first in the form's URL, before the cursor (a CSRF
            # token is 64 letters)
            self.parts = self.stamp.split(str(STAND_IN_PK), 1)

    def render(self, row):
        """The delete button of the comment `row` (a CommentRow) for this visitor, or ""."""
        if self.stamp is None:
            return ""
        if not Comment.deletable(self.user_id, row.author_id, self.post_author_id):
            return ""
        return str(row.pk).join(self.parts)
