"""Post cards, rendered once and kept in the cache.

A card's HTML is the same for every visitor except its like button (which
holds the visitor's CSRF token and like state), so the card is cached with a
marker where the button goes and the button is rendered per request.
"""

import zlib

from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

LIKE_SLOT = "<!--extagram:like-button-->"
# Relative times ("3 minutes ago") may lag by this much; edits change the key.
CARD_SECONDS = 60


def card_key(post, eager):
    edited = int(post.edited_at.timestamp() * 1000)
    language = translation.get_language()
    # The author's handle, display name and picture are in the card: a change shows at once.
    profile = getattr(post.author, "profile", None)
    shown = f"{profile.display_name}\0{profile.avatar_small}" if profile else ""
    name = zlib.crc32(f"{post.author.username}\0{shown}".encode())
    return f"card:3:{language}:{post.pk}:{edited}:{post.comment_count}:{int(eager)}:{name}"


def render_cards(request, posts, eager=False):
    """The HTML of each post's card, in order, with this visitor's like buttons."""
    keys = [card_key(post, eager) for post in posts]
    cached = cache.get_many(keys)
    fresh = {}
    for key, post in zip(keys, posts, strict=True):
        if key not in cached:
            fresh[key] = render_to_string(
                "posts/_post_card.html", {"post": post, "eager": eager, "like_slot": LIKE_SLOT}
            )
    if fresh:
        cache.set_many(fresh, CARD_SECONDS)
    # The buttons get what they need directly: one CSRF token for the whole page
    # instead of running the context processors (and masking a token) per card.
    context = {"user": request.user, "request": request}
    if request.user.is_authenticated:
        context["csrf_token"] = get_token(request)
    cards = []
    for key, post in zip(keys, posts, strict=True):
        button = render_to_string("posts/_like_form.html", {**context, "post": post})
        card = (cached.get(key) or fresh[key]).replace(LIKE_SLOT, button, 1)
        cards.append(mark_safe(card))  # noqa: S308 -- both parts are rendered, escaped templates
    return cards
