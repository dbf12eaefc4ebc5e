"""Post cards, rendered once and kept in the cache.

A card's HTML is the same for every visitor except its like button (which
holds the visitor's CSRF token and like state) and its relative time ("3 minutes
ago", which changes by itself), so the card is cached with a marker where each
goes and both are rendered per request. Everything else in a card is in its key
(card_key), so a cached card is never out of date and can be kept for long.
"""

from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from django.db.models import BooleanField, Exists, OuterRef, Value
from django.template.loader import get_template, render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from extagram.accounts.models import shown_as
from extagram.core.context_processors import page_csrf_token
from extagram.core.memo import FragmentCache, ProcessMemo, fingerprint, key_release
from extagram.core.redirects import viewed_path
from extagram.core.reversing import reverse
from extagram.core.statements import CompiledQuery
from extagram.core.times import time_ago

from .models import Like, Post

LIKE_SLOT = "<!--extagram:like-button-->"
WHEN_SLOT = "<!--extagram:when-->"
# A day: what a card shows changes its key, so this only bounds how long an unseen card
# occupies the cache (Redis evicts the least recently used first: deploy/cache/redis.conf).
CARD_SECONDS = 24 * 60 * 60
# The cards, in this process and the shared cache: a card's key names everything its HTML
# shows, so a copy is as current as the shared cache's, and a page whose cards are all
# here makes no cache round trip for them (docs/performance.md, "Signed-in pages").
CARDS = FragmentCache(kept=2048, seconds=CARD_SECONDS)
CARD_COPIES = CARDS.copies


def card_key(post, eager):
    """The cache key of `post`'s card (a Post with its author and profile loaded): it
    changes with everything the cached HTML shows (the post's edits and comment count, its
    author's handle, display name and picture, the language), so a card is never stale. The
    like button and the relative time are not in the cached HTML (LIKE_SLOT, WHEN_SLOT)."""
    return _card_key(post.pk, post.edited_at, post.comment_count, *shown_as(post.author), eager)


def _card_key(pk, edited_at, comment_count, username, display_name, avatar_small, eager):
    edited = int(edited_at.timestamp() * 1000)
    # The author's handle, display name and picture are in the card: a change shows at once.
    name = fingerprint(username, display_name, avatar_small)
    release = key_release("card", 7)  # the number changes with the card's markup
    return f"{release}:{pk}:{edited}:{comment_count}:{int(eager)}:{name}"


class CardRow(NamedTuple):
    """What a feed page needs of a post whose card is cached: the card's key parts, the
    like button's numbers and the visitor's like mark. One values() row per post
    (CardRow.read), not a Post with its author and profile."""

    pk: int
    like_count: int
    comment_count: int
    edited_at: datetime
    created_at: datetime
    username: str
    display_name: str | None
    avatar_small: str | None
    liked: bool

    def key(self, eager):
        return _card_key(
            self.pk,
            self.edited_at,
            self.comment_count,
            self.username,
            self.display_name,
            self.avatar_small,
            eager,
        )

    def get_absolute_url(self):
        return reverse("post_detail", args=[self.pk])

    @classmethod
    def read(cls, user, ids):
        """The rows of the posts with these ids, in the order of `ids` (ids with no post,
        deleted meanwhile, are left out), `liked` saying whether `user` likes each. One
        statement, compiled once (CompiledQuery): the posts joined with their authors and
        profiles, the like mark an EXISTS on the like table's (post, user) key; the counts
        are read fresh each time."""
        ids = list(dict.fromkeys(ids))
        if user.is_authenticated:
            rows = _ROWS_FOR_MEMBER.rows(ids, user.pk)
        else:
            rows = _ROWS_FOR_VISITOR.rows(ids)
        by_id = {row[0]: row for row in rows}
        return [cls._make(by_id[pk]) for pk in ids if pk in by_id]


_ROW_FIELDS = (
    "pk",
    "like_count",
    "comment_count",
    "edited_at",
    "created_at",
    "author__username",
    "author__profile__display_name",
    "author__profile__avatar_small",
    "liked",
)
_ROWS_FOR_MEMBER = CompiledQuery(
    lambda ids, user_id: (
        Post.objects.filter(pk__in=ids)
        .annotate(liked=Exists(Like.objects.filter(post_id=OuterRef("pk"), user_id=user_id)))
        .values_list(*_ROW_FIELDS)
    )
)
_ROWS_FOR_VISITOR = CompiledQuery(
    lambda ids: (
        Post.objects.filter(pk__in=ids)
        .annotate(liked=Value(False, output_field=BooleanField()))
        .values_list(*_ROW_FIELDS)
    )
)


def page_cards(request, ids, eager=False):
    """The cards of the posts with these ids for this visitor, in the order of `ids`:
    (rows, cards), a CardRow and a safe HTML string per post that exists. One statement
    (CardRow.read) and at most one cache round trip (CARDS: none when this process
    has every card); a missing card reads its post in full, is rendered and cached."""
    rows = CardRow.read(request.user, ids)
    keys = [row.key(eager) for row in rows]
    # a post deleted between its row and its card's read is left out
    found = CARDS.get_or_render(rows, keys, Post.in_id_order, _card_renderer(eager))
    buttons = LikeButtons(request)
    return [row for row, _ in found], [_personalised(html, row, buttons) for row, html in found]


def render_cards(request, posts, eager=False):
    """The HTML of each post's card (a list of safe strings, in the order of `posts`: Posts
    with their authors and profiles, `liked` set by Like.mark_liked), with this visitor's
    like buttons and the relative times as of now. Feed pages use page_cards instead."""
    keys = [card_key(post, eager) for post in posts]

    def read_in_full(pks):  # the posts are read in full already
        return [post for post in posts if post.pk in pks]

    found = CARDS.get_or_render(posts, keys, read_in_full, _card_renderer(eager))
    buttons = LikeButtons(request)
    return [_personalised(html, post, buttons) for post, html in found]


def _card_renderer(eager):
    """A render() for CARDS.get_or_render: a Post with its author and profile -> (its
    card's key, the card's shared HTML)."""

    def render(post):
        context = {"post": post, "eager": eager, "like_slot": LIKE_SLOT, "when_slot": WHEN_SLOT}
        return card_key(post, eager), render_to_string("posts/_post_card.html", context)

    return render


def _personalised(html, post, buttons):
    """A cached card with `post`'s like button for this visitor and its time as of now."""
    html = html.replace(LIKE_SLOT, buttons.render(post), 1)
    html = html.replace(WHEN_SLOT, time_ago(post.created_at), 1)
    return mark_safe(html)  # noqa: S308 -- the parts are rendered, escaped templates


# A stand-in post for the like button's template: its id and like count are numbers no real
# post has on a page (a count's text is replaced whole, so its digits never clash), and the
# visitor's path is a marker the template's escaping leaves as it is.
STAND_IN_PK = 9_087_654_321_012_345
STAND_IN_COUNT = 8_765_432_109
PATH_MARKER = "extagram-like-next-path-marker"
CSRF_MARKER = "extagram-like-csrf-token-marker"
# The stamps rendered by this process: {(template, language, script prefix, signed in,
# liked): the stamp's parts around PATH_MARKER, or None}. Keyed by the template object, so a
# reloaded template (runserver) gets new stamps; a handful of entries in all (2 x 2 per
# language and prefix).
STAMPS = ProcessMemo(kept=64)


# {(language, count): text}: ngettext() is ~4 µs a call, a dozen a page; counts repeat.
LIKE_COUNT_TEXTS = ProcessMemo(kept=4096)


def like_count_text(count):
    """The like count as `_like_form.html`'s {% blocktranslate count %} writes it, in the
    active language (made once per process for each language and count)."""
    return LIKE_COUNT_TEXTS.get(
        (translation.get_language(), count),
        lambda: ngettext("%(counter)s like", "%(counter)s likes", count) % {"counter": count},
    )


class LikeButtons:
    """This visitor's like buttons for one page: `posts/_like_form.html` rendered once per
    state (liked or not) with a stand-in post, then each post's id, like count and the page's
    path put in its place. The template stays the one source of the markup; a page of 12
    cards renders it at most twice instead of 12 times (docs/performance.md, "Signed-in
    pages"), and a process renders each state once per language (STAMPS): the visitor's
    CSRF token is put in place like the path. The result is byte for byte the template's own
    (extagram/posts/tests/test_like_buttons.py)."""

    def __init__(self, request):
        signed_in = request.user.is_authenticated
        # one CSRF token for the whole page, and no context processors
        self.context = {"user": request.user, "page_path": PATH_MARKER}
        if signed_in:
            self.context["csrf_token"] = CSRF_MARKER
            self.csrf_token = page_csrf_token(request)
        self.page_path = viewed_path(request)
        self.path = str(conditional_escape(self.page_path))
        self.stamps = {}
        self.stand_in = _stand_in()
        self.template = get_template("posts/_like_form.html")
        # the stamp's URLs carry the script prefix, as the stand-in's (_stand_in) do
        language, prefix = translation.get_language(), get_script_prefix()
        self.key = (self.template.template, language, prefix, signed_in)

    def _stamp(self, liked):
        if liked not in self.stamps:
            stamp = STAMPS.get((*self.key, liked), lambda: self._render_stamp(liked))
            if stamp is not None and "csrf_token" in self.context:
                stamp = [part.replace(CSRF_MARKER, self.csrf_token) for part in stamp]
            self.stamps[liked] = stamp
        return self.stamps[liked]

    def _render_stamp(self, liked):
        post = SimpleNamespace(
            pk=STAND_IN_PK,
            liked=liked,
            like_count=STAND_IN_COUNT,
            get_absolute_url=lambda: self.stand_in["detail"],
        )
        html = self.template.render({**self.context, "post": post})
        # a template that no longer writes the count as like_count_text() does (or the id
        # or the token where expected) gets no stamp: each button is then rendered in full
        pieces = ("count",) if "csrf_token" not in self.context else ("count", "url")
        if any(self.stand_in[name] not in html for name in pieces):
            return None
        if "csrf_token" in self.context and CSRF_MARKER not in html:
            return None
        return html.split(PATH_MARKER)

    def render(self, post):
        """The like button of `post` (a Post with `liked` set by Like.mark_liked), as HTML."""
        stand_in = self.stand_in
        pk = str(post.pk)
        real = {  # the stand-in's URLs with the post's id: reverse() once per page, not per post
            "url": stand_in["url"].replace(str(STAND_IN_PK), pk),
            "anchor": f"#post-{pk}",
            "detail": stand_in["detail"].replace(str(STAND_IN_PK), pk),
            "count": like_count_text(post.like_count),
        }
        stamp = self._stamp(bool(getattr(post, "liked", False)))
        if stamp is None:
            context = {**self.context, "page_path": self.page_path, "post": post}
            return render_to_string("posts/_like_form.html", context)
        parts = []
        for part in stamp:
            for name in ("url", "anchor", "detail", "count"):
                part = part.replace(stand_in[name], real[name])
            parts.append(part)
        return self.path.join(parts)


def _stand_in():
    """The stand-in post's like URL, anchor, page URL and like-count text, in the current
    language and under the current script prefix (worked out once per process for each)."""
    key = (translation.get_language(), get_script_prefix())
    return _STAND_INS.get(
        key,
        lambda: {
            "url": reverse("toggle_like", args=[STAND_IN_PK]),
            "anchor": f"#post-{STAND_IN_PK}",
            "detail": Post(pk=STAND_IN_PK).get_absolute_url(),
            "count": like_count_text(STAND_IN_COUNT),
        },
    )


_STAND_INS = ProcessMemo(kept=64)
