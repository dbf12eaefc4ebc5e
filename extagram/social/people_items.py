"""Lists of people (a member's followers and follows, search results), each person's item
rendered once and kept (FragmentCache), as post cards, comments and notifications are.

An item (`social/_person.html`: the link to the member's profile, their picture and name)
is the same for every visitor and has no time in it, so it is kept whole under a key
naming all it shows: the member's handle, display name and picture, the language and the
script prefix. Rendered from model instances, a page of 50 took 13-17 ms of CPU
in-process, 7-8 kept; see docs/performance.md, "Lists of people".
"""

from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from extagram.accounts.models import shown_as
from extagram.accounts.usernames import canonical
from extagram.core.memo import FragmentCache, fingerprint, key_release
from extagram.core.statements import CompiledQuery
from extagram.posts.cards import CARD_SECONDS

from .models import Follow, SearchName, prefix_filter, prefix_pattern
from .text import search_key

# 171 bytes an item on average (seeded members: no picture, no display name; one with both
# is longer): under 1 MB a process for 4,096 of those.
PERSON_FRAGMENTS = FragmentCache(kept=4096, seconds=CARD_SECONDS)


class PersonRow(NamedTuple):
    """What a list needs of a person whose item is kept: their id and how they are shown
    (accounts.models.shown_as), and for a list of follows the follow's id (its cursor)."""

    pk: int
    username: str
    display_name: str | None
    avatar_small: str | None
    follow_id: int | None = None

    def key(self, release):
        """The item's key in PERSON_FRAGMENTS, after `release` (_release())."""
        return f"{release}:{fingerprint(self.username, self.display_name, self.avatar_small)}"

    @classmethod
    def of(cls, user):
        """The row of `user` (a User with its profile selected)."""
        return cls(user.pk, *shown_as(user))

    @classmethod
    def follows(cls, owner_id, which, cursor, count):
        """The rows of `owner_id`'s newest `count` "followers" or "following" (`which`)
        with a follow id below `cursor` (None: from the newest), newest follow first; closed
        accounts are left out, as from the counts (Follow.counts).

        Two statements, each compiled once per shape: the follows alone, on their
        (owner, -id) index, then the members they name. Joined in one statement, MariaDB
        11.8 planned 20,000 followers among 40,000 members as a scan of every member into
        a temporary table and a sort, on every page, and its memory grew until the kernel
        killed it (docs/performance.md, "A popular member's followers"). The follows of
        closed accounts are left out by their flags; a round that still meets one (closed
        as it was read) reads on past it.
        """
        rows = []
        while len(rows) < count:
            wanted = count - len(rows)
            args = (owner_id,) if cursor is None else (owner_id, cursor)
            follows = _FOLLOWS[which].rows(*args, limit=wanted)
            if not follows:
                break
            shown = {row[0]: row for row in _ACTIVE_SHOWN.rows([m for _, m in follows])}
            rows += [cls(*shown[m], follow_id=f) for f, m in follows if m in shown]
            if len(follows) < wanted:
                break
            cursor = follows[-1][0]
        return rows

    @classmethod
    def matching(cls, prefix, count):
        """The rows of the active members whose handle starts with `prefix`, in handle
        order, then of those whose display name does (text.search_key: no case, no
        accents), in its order: each member once, at most `count`. Two statements,
        compiled once."""
        rows = {}
        for statement, key in ((_BY_HANDLE, canonical(prefix)), (_BY_NAME, search_key(prefix))):
            pattern = prefix_pattern(key)
            for person in statement.rows(pattern, limit=count) if pattern else ():
                rows.setdefault(person[0], cls(*person))
        return list(rows.values())[:count]


def _follows_of(side, other):
    """build() for the follows whose `other` side is the owner: (follow id, `side` id)."""

    def build(owner_id, cursor=None):
        # closed accounts' follows are flagged (Follow.follower_is_active and
        # followee_is_active): left out here, on the same index
        follows = Follow.objects.filter(**{f"{other}_id": owner_id, f"{side}_is_active": True})
        if cursor is not None:
            follows = follows.filter(id__lt=cursor)
        return follows.order_by("-id").values_list("pk", f"{side}_id")

    return build


_FOLLOWS = {
    "followers": CompiledQuery(_follows_of("follower", "followee")),
    "following": CompiledQuery(_follows_of("followee", "follower")),
}
_SHOWN = ("username", "profile__display_name", "profile__avatar_small")
_ACTIVE_SHOWN = CompiledQuery(
    lambda ids: (
        get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", *_SHOWN)
    )
)
_BY_HANDLE = CompiledQuery(
    lambda pattern: (
        get_user_model()
        .objects.filter(prefix_filter("profile__handle", pattern), is_active=True)
        .order_by("profile__handle")
        .values_list("pk", *_SHOWN)
    )
)
_BY_NAME = CompiledQuery(
    lambda pattern: (
        SearchName.objects.filter(prefix_filter("key", pattern), user__is_active=True)
        .order_by("key")
        .values_list("user_id", *(f"user__{field}" for field in _SHOWN))
    )
)
_MEMBERS_IN_FULL = CompiledQuery(
    lambda ids: get_user_model().objects.select_related("profile").filter(pk__in=ids)
)


def _release():
    return key_release("person", 1)  # the number changes with the markup


def people_items(rows, members=None):
    """The list items of these people (PersonRows, in list order): a list of safe HTML
    `<li>`s, a member gone meanwhile left out. None of the cache's round trips when this
    process has them all, else one; for those not kept, one statement (none when
    `members`, {id: User with profile}, holds them) and one round trip to keep them."""
    release = _release()

    def read_in_full(ids):
        if members is not None:
            return [members[pk] for pk in ids if pk in members]
        return _MEMBERS_IN_FULL.instances(ids)

    def render(person):  # kept under the key of what it shows
        html = render_to_string("social/_person.html", {"person": person})
        return PersonRow.of(person).key(release), html

    keys = [row.key(release) for row in rows]
    found = PERSON_FRAGMENTS.get_or_render(rows, keys, read_in_full, render)
    return [mark_safe(html) for _, html in found]  # noqa: S308 -- rendered, escaped templates
