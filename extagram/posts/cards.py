"""Post cards, rendered once and kept in the cache.

A card's HTML is the same for every visitor except its like button (which
holds the visitor's CSRF token and like state) and its relative time ("3 minutes
ago", which changes by itself), so the card is cached with a marker where each
goes and both are rendered per request. Everything else in a card is in its key
(card_key), so a cached card is never out of date and can be kept for long.
"""

import zlib
from types import SimpleNamespace

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from .models import Post

LIKE_SLOT = "<!--extagram:like-button-->"
WHEN_SLOT = "<!--extagram:when-->"
# A day: what a card shows changes its key, so this only bounds how long an unseen card
# occupies the cache (Redis evicts the least recently used first: deploy/cache/redis.conf).
CARD_SECONDS = 24 * 60 * 60


def card_key(post, eager):
    """The cache key of `post`'s card: it changes with everything the cached HTML shows
    (the post's edits and comment count, its author's handle, display name and picture,
    the language), so a card is never stale. The like button and the relative time are
    not in the cached HTML (LIKE_SLOT, WHEN_SLOT)."""
    edited = int(post.edited_at.timestamp() * 1000)
    language = translation.get_language()
    # The author's handle, display name and picture are in the card: a change shows at once.
    profile = getattr(post.author, "profile", None)
    shown = f"{profile.display_name}\0{profile.avatar_small}" if profile else ""
    name = zlib.crc32(f"{post.author.username}\0{shown}".encode())
    # The literal changes with the card's markup; the version keeps a deploy's old and new
    # replicas (sharing Redis) from serving each other's cards.
    release = f"card:5:{settings.VERSION}:{language}"
    return f"{release}:{post.pk}:{edited}:{post.comment_count}:{int(eager)}:{name}"


def render_cards(request, posts, eager=False):
    """The HTML of each post's card (a list of safe strings, in the order of `posts`), with
    this visitor's like buttons and the relative times as of now."""
    keys = [card_key(post, eager) for post in posts]
    cached = cache.get_many(keys)
    fresh = {}
    for key, post in zip(keys, posts, strict=True):
        if key not in cached:
            fresh[key] = render_to_string(
                "posts/_post_card.html",
                {"post": post, "eager": eager, "like_slot": LIKE_SLOT, "when_slot": WHEN_SLOT},
            )
    if fresh:
        cache.set_many(fresh, CARD_SECONDS)
    buttons = LikeButtons(request)
    cards = []
    for key, post in zip(keys, posts, strict=True):
        card = (cached.get(key) or fresh[key]).replace(LIKE_SLOT, buttons.render(post), 1)
        card = card.replace(WHEN_SLOT, conditional_escape(naturaltime(post.created_at)), 1)
        cards.append(mark_safe(card))  # noqa: S308 -- the parts are rendered, escaped templates
    return cards


# A stand-in post for the like button's template: its id and like count are numbers no real
# post has on a page (a count's text is replaced whole, so its digits never clash), and the
# visitor's path is a marker the template's escaping leaves as it is.
STAND_IN_PK = 9_087_654_321_012_345
STAND_IN_COUNT = 8_765_432_109
PATH_MARKER = "extagram-like-next-path-marker"


def like_count_text(count):
    """The like count as `_like_form.html`'s {% blocktranslate count %} writes it."""
    return ngettext("%(counter)s like", "%(counter)s likes", count) % {"counter": count}


class LikeButtons:
    """This visitor's like buttons for one page: `posts/_like_form.html` rendered once per
    state (liked or not) with a stand-in post, then each post's id, like count and the page's
    path put in its place. The template stays the one source of the markup; a page of 12
    cards renders it at most twice instead of 12 times (docs/performance.md, "Signed-in
    pages"). The result is byte for byte the template's own
    (extagram/posts/tests/test_like_buttons.py)."""

    def __init__(self, request):
        # one CSRF token for the whole page, and no context processors
        self.context = {"user": request.user, "request": SimpleNamespace(get_full_path=_marker)}
        if request.user.is_authenticated:
            self.context["csrf_token"] = get_token(request)
        self.request = request
        self.path = str(conditional_escape(request.get_full_path()))
        self.stamps = {}
        self.stand_in = {
            "url": reverse("toggle_like", args=[STAND_IN_PK]),
            "anchor": f"#post-{STAND_IN_PK}",
            "detail": Post(pk=STAND_IN_PK).get_absolute_url(),
            "count": like_count_text(STAND_IN_COUNT),
        }

    def _stamp(self, liked):
        if liked not in self.stamps:
            post = SimpleNamespace(
                pk=STAND_IN_PK,
                liked=liked,
                like_count=STAND_IN_COUNT,
                get_absolute_url=lambda: self.stand_in["detail"],
            )
            html = render_to_string("posts/_like_form.html", {**self.context, "post": post})
            # a template that no longer writes the count as like_count_text() does (or the
            # id where expected) gets no stamp: each button is then rendered in full
            pieces = ("count",) if "csrf_token" not in self.context else ("count", "url")
            if any(self.stand_in[name] not in html for name in pieces):
                self.stamps[liked] = None
            else:
                self.stamps[liked] = html.split(PATH_MARKER)
        return self.stamps[liked]

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
            context = {**self.context, "request": self.request, "post": post}
            return render_to_string("posts/_like_form.html", context)
        parts = []
        for part in stamp:
            for name in ("url", "anchor", "detail", "count"):
                part = part.replace(stand_in[name], real[name])
            parts.append(part)
        return self.path.join(parts)


def _marker():
    return PATH_MARKER
