"""What a process renders once and reuses: a bounded dict shared by its threads."""

_UNSET = object()


class ProcessMemo:
    """Values made once per process for each key, then reused: `get(key, make)` returns the
    value kept under `key`, or calls `make()` and keeps what it returns (None included).

    At most `kept` entries: when full, the memo is emptied and starts afresh (the keys are
    looks of templates and members, cheap to make again; no entry outlives a release).
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

    def clear(self):
        self.values.clear()

    def __len__(self):
        return len(self.values)
