"""What a process renders once and reuses: a bounded dict shared by its threads."""

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
