"""A profile's grid of photos, each tile rendered once and kept (FragmentCache), as post
cards are.

A tile (`posts/_grid_item.html`: the link to the post, its small photo in WebP and JPEG,
its alt text or "Photo by ..." with the author's handle) is the same for every visitor
and has no time in it, so it is kept whole under a key naming all it shows: the post's id
(its photos never change) and last edit (the alt text), the author's handle, the language
and the script prefix. Kept, a profile's CPU went from 8.9-9.7 to 7.6-8.4 ms a view
in-process; see docs/performance.md, "A profile's grid".
"""

from datetime import datetime
from typing import NamedTuple

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from extagram.core.memo import FragmentCache, key_release, row_key
from extagram.core.statements import CompiledQuery

from .cards import CARD_SECONDS
from .models import Post

# 352 bytes a tile on average (measured on the plain shape): ~1.5 MB a process at most.
TILES = FragmentCache(kept=4096, seconds=CARD_SECONDS)


class TileRow(NamedTuple):
    """What a grid needs of a post whose tile is kept: its key's parts."""

    pk: int
    edited_at: datetime
    username: str

    def key(self, release):
        """The tile's key in TILES, after `release` (_release())."""
        return row_key(release, self.pk, self.edited_at, self.username)

    @classmethod
    def of(cls, post):
        """The row of `post` (a Post with its author)."""
        return cls(post.pk, post.edited_at, post.author.username)


_ROWS = CompiledQuery(
    lambda ids: Post.objects.filter(pk__in=ids).values_list("pk", "edited_at", "author__username")
)


def _release():
    return key_release("tile", 1)  # the number changes with the markup


def page_tiles(ids):
    """The tiles of the posts with these ids, in the order of `ids`: (rows, tiles), a
    TileRow and a safe HTML string per post that exists. One statement, and one cache
    round trip unless this process has every tile; tiles not kept read their posts in full
    (Post.in_id_order: one statement more), are rendered and kept (one round trip more)."""
    by_id = {row[0]: TileRow._make(row) for row in _ROWS.rows(list(ids))}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    release = _release()

    def render(post):  # kept under the key of what it shows
        return TileRow.of(post).key(release), render_to_string(
            "posts/_grid_item.html", {"post": post}
        )

    keys = [row.key(release) for row in rows]
    found = TILES.get_or_render(rows, keys, Post.in_id_order, render)
    # rendered, escaped templates
    return [row for row, _ in found], [mark_safe(html) for _, html in found]  # noqa: S308
