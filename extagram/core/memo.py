"""What a process renders once and reuses: a bounded dict shared by its threads, and
rendered fragments kept in it and in the shared cache."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.urls import get_script_prefix
from django.utils import translation

_UNSET = object()


class ProcessMemo:
    """Values made once per process for each key, then reused: `get(key, make)` returns the
    value kept under `key`, or calls `make()` and keeps what it returns (None included);
    `get_many(keys)` and `update(values)` keep values made elsewhere (a shared cache's).

    At most `kept` entries: when full, the memo is emptied and starts afresh (the values are
    rendered looks of templates, members and post cards, cheap to make again; no entry
    outlives a release).
    Threads share it: a key two threads make at once is made twice, and one value is kept.
    """

    def __init__(self, kept):
        self.kept = kept
        self.values = {}

    def get(self, key, make):
        value = self.values.get(key, _UNSET)  # one read: another thread may clear the dict
        if value is _UNSET:
            value = make()
            if len(self.values) >= self.kept:
                self.values.clear()
            self.values[key] = value
        return value

    def get_many(self, keys):
        """{key: value} of those of `keys` that are kept (nothing is made)."""
        found = ((key, self.values.get(key, _UNSET)) for key in keys)  # cleared meanwhile: _UNSET
        return {key: value for key, value in found if value is not _UNSET}

    def update(self, values):
        """Keep these {key: value} (made elsewhere: read from a shared cache, say); of more
        than `kept` values at once, the first `kept`."""
        if len(self.values) + len(values) > self.kept:
            self.values.clear()
        if len(values) > self.kept:
            values = dict(list(values.items())[: self.kept])
        self.values.update(values)

    def clear(self):
        self.values.clear()

    def __len__(self):
        return len(self.values)


class FragmentCache:
    """Rendered HTML fragments (post cards, comments, notification items, people's list
    items, grid tiles) kept under keys that name everything
    they show, so a kept fragment is never out of date: this process's copies first (a
    ProcessMemo of `kept` entries), then the shared cache, where each is kept `seconds`.

    `get_many(keys)` gives {key: html} of the fragments kept, with one cache round trip
    for those this process has no copy of (none when it has them all); `keep(fragments)`
    stores {key: html} in both; `get_or_render(rows, keys, read_in_full, render)` gives a
    page's fragments, making and keeping those not kept. ~1.5 KB a post card: ~3 MB a
    process for 2,048 (docs/performance.md, "Signed-in pages").
    """

    def __init__(self, kept, seconds):
        self.copies = ProcessMemo(kept=kept)
        self.seconds = seconds

    def get_many(self, keys):
        found = self.copies.get_many(keys)
        if len(found) < len(keys):
            shared = cache.get_many([key for key in keys if key not in found])
            self.copies.update(shared)
            found.update(shared)
        return found

    def keep(self, fragments):
        if fragments:
            cache.set_many(fragments, self.seconds)
            self.copies.update(fragments)

    def get_or_render(self, rows, keys, read_in_full, render):
        """The fragment of each of a page's `rows` (each with a `pk`, in page order; `keys`:
        each row's key), kept or made now: a list of (row, html), leaving out a row whose
        object is gone by the time it is read in full.

        The fragments not kept are made from one call of `read_in_full(pks)` (a list of the
        rows' pks; it gives their objects, in any order, leaving out those gone) and a
        `render(obj)` per object, which gives (the key of what the object shows, its HTML).
        Each is kept under that key (the object may have changed since its row was read: a
        rename in between must not be kept under the old name's key) and shown in its
        row's place. At most one cache round trip for the kept ones, one for the new ones.
        """
        html = self.get_many(keys)
        missing = {row.pk: key for row, key in zip(rows, keys, strict=True) if key not in html}
        if missing:
            fresh = {}
            for obj in read_in_full(list(missing)):
                key, fragment = render(obj)
                fresh[key] = fragment
                html[missing[obj.pk]] = fragment
            self.keep(fresh)
        return [(row, html[key]) for row, key in zip(rows, keys, strict=True) if key in html]


def key_release(kind, markup):
    """The first part of a kept fragment's key, e.g. "comment:1:2.3.0:en:/": its `kind`,
    `markup` (a number changed with the fragment's markup), the deploy's settings.VERSION
    (a deploy's old and new replicas share Redis), the active language and the script
    prefix (the fragment's links carry it, and it may differ between requests)."""
    language, prefix = translation.get_language(), get_script_prefix()
    return f"{kind}:{markup}:{settings.VERSION}:{language}:{prefix}"


def row_key(release, pk, created_at, *shown):
    """A kept fragment's key: its `release` (key_release()), the object's `pk` and a time
    (`created_at`, an aware datetime: its creation, so an id used again, say by a database
    restored from a backup, is a new key; or its last edit, which also changes with what
    it shows), and the fingerprint of everything else the fragment shows (`shown`: its
    author's look, its text)."""
    when = int(created_at.timestamp() * 1_000_000)
    return f"{release}:{pk}:{when}:{fingerprint(*shown)}"


def fingerprint(*parts):
    """A digest of these parts (their str() joined by NULs; blake2b, 32 hex digits) for a
    kept fragment's key. Not CRC32: a checksum lets someone choose a display name that
    gives their fragment an earlier key back (and with it text staff have since changed)."""
    joined = "\0".join(str(part) for part in parts)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()
