"""Hashtags, mentions and links in what people write: found once, escaped always.

`tokens(text)` splits text into plain runs, URLs, #tags and @mentions; `render`
escapes every run and wraps tags and mentions (and, in bios, URLs) in links. The
raw text is never searched after escaping, so `&#x27;` is never a tag and
`<a href=...>` typed by someone is only text.

The rules, after Instagram's and Twitter's (twitter-text) conventions:
- a #tag is `#` then letters, digits, marks or `_` (any script), with at least one
  letter, not preceded by a letter, digit, `_`, `&`, `#` or `/` (so `a#b`, `&#39;`,
  `##x` and `site.example/#top` are not tags), at most TAG_MAX characters; a `#`
  inside a URL is part of the URL;
- an @mention is `@` (or the full-width `＠`) then a run of letters, digits, `_`
  and `.` in any script (so full-width `＠ＡＮＡ` is seen) whose canonical form is a
  handle someone could have (usernames.handle_problems finds nothing: a-z, 0-9, `_`,
  `.`, no dot at either end, not reserved), not preceded by a letter, digit or `_`,
  `.`, `+`, `-` (so the `@` of an e-mail address is not a mention); a trailing dot
  is punctuation. A run that is not a handle as a whole (`@josé`, `@.ana`) is no
  mention at all, not a shorter one. As on Twitter, a mention links the handle
  whether or not a member has it (a card is cached for everyone, and who has a
  handle changes); the profile page then says nobody goes by it. Only existing
  members are notified (signals.py);
- a URL is http(s):// or www. up to whitespace, minus trailing punctuation.
"""

import re
import unicodedata

from django.http import Http404
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from extagram.accounts.usernames import canonical, handle_problems, is_invisible

from .models import TAG_MAX

_URL = r"(?P<url>(?:https?://|www\.)[^\s<>\"]+)"
_TAG_NAME = r"[\w\u0300-\u036f]+"  # letters, digits, _ and combining accents
_TAG = rf"(?<![\w&#/])#(?P<tag>{_TAG_NAME})"
_MENTION = r"(?<![\w.+\-@＠])[@＠](?P<mention>[\w.]+)"
TOKENS = re.compile(f"{_URL}|{_TAG}|{_MENTION}", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'»”’"


def canonical_tag(name):
    """The stored form of a tag: NFKC, case-folded (so #Café, #CAFÉ and #café are one)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def search_text(text):
    """What a search looks for in `text` (what was typed or pasted in the search box):
    canonical_tag's folding, runs of spaces as one and none around, and without the
    control and format characters no handle, display name or tag holds
    (accounts.usernames.is_invisible), so that a pasted direction mark or a NUL hides no
    match. A str."""
    visible = "".join(ch for ch in text if ch.isspace() or not is_invisible(ch))
    return " ".join(canonical_tag(visible).split())


def search_key(text):
    """`text` folded for search by prefix: canonical_tag's case folding, then without
    accents and other combining marks (NFKD, marks dropped, NFC), so "eva" finds "Éva",
    "nono" finds "Ñoño" and "strasse" finds "Straße", on every database alike. A str."""
    decomposed = unicodedata.normalize("NFKD", canonical_tag(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare)


class NotATag(Http404):
    """`name` (a str from a URL) is not one valid_tag takes: the 404 page says what a
    tag is."""

    def __init__(self, name):
        super().__init__(f"{name!r} is not a tag.")
        self.not_found_context = {"not_a_tag": name, "tag_max": TAG_MAX}


def valid_tag(name):
    """`name` (canonical) is one a text can hold as a tag: only the characters a tag is
    made of, at most TAG_MAX of them, a letter among them."""
    return (
        len(name) <= TAG_MAX
        and re.fullmatch(_TAG_NAME, name) is not None
        and any(ch.isalpha() for ch in name)
    )


def tokens(text):
    """Yield (kind, text, value) for `text` (str): kind is "text", "url", "tag" or "mention".

    For "tag", value is the canonical tag; for "mention", the canonical handle; else
    None. Joining every `text` gives back the input exactly.
    """
    pos = 0
    for match in TOKENS.finditer(text):
        start, end = match.span()
        kind, value, piece = None, None, match.group()
        if match.group("url"):
            piece = piece.rstrip(_URL_TRAILING)
            end = start + len(piece)
            kind = "url"
        elif match.group("tag"):
            name = canonical_tag(match.group("tag"))
            if valid_tag(name):  # after case folding, which can lengthen it ("ß" -> "ss")
                kind, value = "tag", name
        else:
            handle = match.group("mention").rstrip(".")
            if handle and not handle_problems(canonical(handle)):
                kind, value = "mention", canonical(handle)
                end = start + 1 + len(handle)
                piece = text[start:end]
        if kind is None:
            continue
        if start > pos:
            yield "text", text[pos:start], None
        yield kind, piece, value
        pos = end
    if pos < len(text):
        yield "text", text[pos:], None


def tags_in(text):
    """The set of canonical tags in `text`."""
    return {value for kind, _piece, value in tokens(text or "") if kind == "tag"}


def post_tags_of(caption, own_comments=()):
    """The canonical tag names (a set) a post is found under: those in its `caption` and
    in `own_comments`, the bodies of the comments its author wrote on it. People often
    put their tags in a first comment of their own to keep the caption clean, and
    Instagram's tag pages take those as the caption's; another member's comment does not
    file someone's post under a tag (it is still a link to the tag's page)."""
    return tags_in(caption).union(*(tags_in(body) for body in own_comments))


def mentions_in(text):
    """The set of canonical handles mentioned in `text`."""
    return {value for kind, _piece, value in tokens(text or "") if kind == "mention"}


def render(text, link_urls=False):
    """`text` as safe HTML: escaped, with #tags and @mentions linked.

    With `link_urls` (bios), URLs become links with rel="nofollow ugc noopener"
    (the href gets https:// before a bare www.). Line breaks are left to the caller
    (the linebreaksbr filter keeps this output as it is, since it is safe).
    """
    out = []
    for kind, piece, value in tokens(text or ""):
        if kind == "tag":
            href = reverse("tag", args=[value])
            out.append(f'<a class="tag" href="{escape(href)}">{escape(piece)}</a>')
        elif kind == "mention":
            href = reverse("profile", args=[value])
            out.append(f'<a class="mention" href="{escape(href)}">{escape(piece)}</a>')
        elif kind == "url" and link_urls:
            href = piece if piece.lower().startswith("http") else f"https://{piece}"
            out.append(f'<a href="{escape(href)}" rel="nofollow ugc noopener">{escape(piece)}</a>')
        else:
            out.append(escape(piece))
    return mark_safe("".join(out))  # noqa: S308 -- every piece is escaped above
