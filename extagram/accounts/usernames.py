"""Handles (usernames): one canonical form and the rules a handle must follow.

A handle is what appears in `/u/<handle>/` and after an @. It is deliberately
narrow: ASCII letters a-z, digits, `_` and `.`, at most HANDLE_MAX characters,
no dot at either end and no two dots in a row, and not one of the reserved
names. Everything else people want to be called (accents, other scripts,
spaces, emoji) goes in the free-form display name, shown beside the handle.

Why ASCII only rather than "one script per name" plus a confusables table:
with a single script there is nothing to confuse (Cyrillic "а" vs Latin "a",
Greek "ο" vs Latin "o" cannot both exist), the rule fits in one sentence a
person can follow, and every database and every URL treats it the same way.
Unicode's own advice for identifiers that must not be spoofed (UTS #39,
"Highly Restrictive" profile) is in the same spirit.

The canonical form is NFKC_Casefold (Unicode's caseless identifier matching,
UAX #31 / UTS #46: NFKC, case fold, NFKC again), so full-width "ＡＬＩＣＥ",
"Alice" and "alice" are one name; it is computed before the rules are
checked, so the rules judge what would be stored.
"""

import re
import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from extagram.core.forms import BIDI_OVERRIDES, refuse_unreadable

# 30 fits a 390-px phone header beside the other links (Instagram uses the same).
HANDLE_MAX = 30
DISPLAY_NAME_MAX = 50

_ALLOWED = re.compile(r"[a-z0-9_.]+")

# Words a handle may not be, besides the first segment of every URL of the site
# (added at run time by reserved_names()). They would read as the site speaking,
# or collide with paths we are likely to add.
RESERVED_WORDS = frozenset(
    {
        "about",
        "abuse",
        "account",
        "accounts",
        "admin",
        "administrator",
        "api",
        "app",
        "assets",
        "billing",
        "blog",
        "c",
        "contact",
        "css",
        "dashboard",
        "delete",
        "edit",
        "email",
        "explore",
        "extagram",
        "favicon.ico",
        "feed",
        "help",
        "home",
        "img",
        "js",
        "login",
        "logout",
        "mail",
        "me",
        "media",
        "mfa",
        "moderator",
        "mod",
        "new",
        "news",
        "noreply",
        "notifications",
        "null",
        "official",
        "p",
        "password",
        "postmaster",
        "privacy",
        "register",
        "reset",
        "root",
        "robots.txt",
        "search",
        "security",
        "settings",
        "signin",
        "signout",
        "signup",
        "sitemap.xml",
        "staff",
        "static",
        "status",
        "support",
        "system",
        "tag",
        "tags",
        "terms",
        "u",
        "undefined",
        "upload",
        "uploads",
        "user",
        "users",
        "webmaster",
        "www",
        "you",
        "2fa",
        "healthz",
        "readyz",
    }
)

# Handles that would impersonate the site or its staff even with separators
# around them or digits after: "_admin", "ad_min", "sup.port", "admin_2" are refused too.
STAFF_WORDS = frozenset(
    [
        "admin",
        "administrator",
        "extagram",
        "moderator",
        "official",
        "root",
        "security",
        "staff",
        "support",
        "system",
    ]
)


def canonical(name):
    """The canonical form of a typed name: NFKC_Casefold (see module docstring).

    `name` is a str; returns a str (possibly not a valid handle: check with
    `handle_problems`).
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


@lru_cache(maxsize=1)
def _url_segments():
    from django.urls import URLResolver, get_resolver

    segments = set()

    def walk(patterns, depth):
        for pattern in patterns:
            match = re.match(r"\^?([A-Za-z0-9_.-]+)", str(pattern.pattern))
            if match:
                segments.add(match.group(1).lower())
            elif isinstance(pattern, URLResolver) and depth < 2:
                # An include() mounted at the root: its own first segments count.
                walk(pattern.url_patterns, depth + 1)

    walk(get_resolver().url_patterns, 0)
    return frozenset(segments)


def reserved_names():
    """Every reserved handle: RESERVED_WORDS plus each first URL segment of the site."""
    return RESERVED_WORDS | _url_segments()


def handle_problems(name):
    """What is wrong with `name` as a handle, as a list of (code, message); [] if nothing.

    `name` should already be canonical. Codes: "required", "too_long",
    "charset", "not_ascii", "dots", "reserved". The messages are translated,
    ready to show on a form or in the admin.
    """
    problems = []
    if not name:
        return [("required", _("Choose a username."))]
    if len(name) > HANDLE_MAX:
        problems.append(
            (
                "too_long",
                _("Use at most %(max)d characters (this one has %(count)d).")
                % {"max": HANDLE_MAX, "count": len(name)},
            )
        )
    if not _ALLOWED.fullmatch(name):
        if any(ord(ch) > 127 and ch.isalnum() for ch in name):
            problems.append(
                (
                    "not_ascii",
                    _(
                        "Usernames use the letters a–z only, so that no two look alike. "
                        "Put your name in your own script in your display name."
                    ),
                )
            )
        else:
            problems.append(
                ("charset", _("Use only letters a–z, digits, underscores (_) and dots (.)."))
            )
    if name.startswith(".") or name.endswith(".") or ".." in name:
        problems.append(
            ("dots", _("A username cannot start or end with a dot or have two dots in a row."))
        )
    bare = name.replace("_", "").replace(".", "").rstrip("0123456789")
    if name in reserved_names() or bare in STAFF_WORDS:
        problems.append(("reserved", _("This username is reserved. Please choose another.")))
    return problems


def validate_handle(name):
    """Raise ValidationError listing every rule the (canonical) `name` breaks."""
    problems = handle_problems(name)
    if problems:
        raise ValidationError([ValidationError(msg, code=code) for code, msg in problems])


# Bidirectional overrides and isolates reorder the text around them (a name could
# appear to be someone else's); other control and format characters are invisible.
_BIDI_CONTROLS = BIDI_OVERRIDES | set("\u2066\u2067\u2068\u2069\u200e\u200f")
_JOINERS = {"\u200c", "\u200d"}  # needed by emoji sequences and several scripts


def is_invisible(ch):
    """Whether the character `ch` is a control or format character (Unicode categories Cc
    and Cf), which no display name holds; the joiners emoji sequences and several scripts
    need (ZWJ, ZWNJ) are not."""
    return unicodedata.category(ch) in ("Cc", "Cf") and ch not in _JOINERS


def clean_display_name(value):
    """A display name as stored: NFC, surrounding spaces removed, runs of spaces as one.

    Raises ValidationError for control characters, bidirectional overrides, bytes that
    were not UTF-8 (refuse_unreadable) and names longer than DISPLAY_NAME_MAX characters.
    """
    refuse_unreadable(value)
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if len(value) > DISPLAY_NAME_MAX:
        raise ValidationError(
            _("Use at most %(max)d characters.") % {"max": DISPLAY_NAME_MAX}, code="too_long"
        )
    for ch in value:
        if ch in _BIDI_CONTROLS or is_invisible(ch):
            raise ValidationError(
                _("Remove the invisible control character (%(code)s) from the name."),
                code="control",
                params={"code": f"U+{ord(ch):04X}"},
            )
    return value


def suggest_handle(name, taken):
    """A valid handle close to `name` that is not in `taken` (a container of handles).

    Used when existing accounts are migrated: accents are dropped (NFKD, then
    combining marks removed), a letter of another script becomes the Latin letter
    its Unicode name ends with when there is one ("CYRILLIC SMALL LETTER A" -> "a"; a
    name with letters that have no such equivalent starts from "member"), other
    characters become `_`, dots are tidied, the result is cut to fit and
    numbered ("name_2", "name_3"...) until free. A reserved name starts from
    "member" instead (its number alone would still look official).
    """
    base = canonical(name)
    base = "".join(
        _latin(ch) for ch in unicodedata.normalize("NFKD", base) if not unicodedata.combining(ch)
    )
    if any(not ch.isascii() and ch.isalpha() for ch in base):
        base = ""  # a name in another script: "member" below, the name stays as display name
    base = re.sub(r"[^a-z0-9_.]", "_", base)
    base = re.sub(r"\.{2,}", ".", base).strip(".")
    base = re.sub(r"_{2,}", "_", base).strip("_") or "member"
    base = base[:HANDLE_MAX].rstrip(".")
    if any(code == "reserved" for code, _ in handle_problems(base)):
        base = "member"
    candidate = base
    n = 1
    while candidate in taken or handle_problems(candidate):
        n += 1
        suffix = f"_{n}"
        candidate = base[: HANDLE_MAX - len(suffix)].rstrip(".") + suffix
        if n > 10_000:  # pragma: no cover -- needs 10,000 accounts with one name
            raise ValueError(f"no free handle near {name!r}")
    return candidate


def _latin(ch):
    """`ch`, or the single Latin letter its Unicode name ends with (for another script)."""
    if ch.isascii() or not ch.isalpha():
        return ch
    last = unicodedata.name(ch, "").rsplit(" ", 1)[-1]
    return last.lower() if len(last) == 1 and last.isascii() and last.isalpha() else ch
