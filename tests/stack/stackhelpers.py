"""What the stack tests share besides their fixtures (conftest.py). The stack, its HTTP
client and the other helpers are in extagram_ops.throwaway, shared with the drills and
the bench."""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

# Lines printed at the end of the session (conftest's pytest_terminal_summary).
REPORT = []

# Callables run once the session's fixtures are all torn down (conftest's
# pytest_sessionfinish), e.g. leaving a swarm only after the compose stack is gone.
AT_SESSION_END = []


def photo_names(count, size):
    """{storage name: bytes} of `count` made-up photo files of `size` bytes each, named as
    the upload service names photos (photos/<2 hex>/<sha-256>.jpg, which the proxy and the
    media tier serve), random bytes (a cache does not look inside)."""
    files = {}
    for _ in range(count):
        data = os.urandom(size)
        digest = hashlib.sha256(data).hexdigest()
        files[f"photos/{digest[:2]}/{digest}.jpg"] = data
    return files


def fetch_all_at_once(stack, paths):
    """GET every path through the stack's front door at the same time (a thread each, a
    client each): [(status, bytes received) or (the exception's name, its text)]."""

    def fetch(path):
        try:
            response = stack.client(timeout=60).get(path)
            return response.status, len(response.body)
        except Exception as error:  # noqa: BLE001 -- a cut-short answer is the finding
            return type(error).__name__, str(error)[:80]

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        return list(pool.map(fetch, paths))
