"""Race real threads against the test database (each thread its own connection)."""

import random
import threading

from django.db import connections

# Threads wait a random few milliseconds after their common start, so that racing
# transactions meet in every order over a test's rounds.
JITTER = 0.005


def run_together(*actions, delays=None):
    """Run each action in its own thread, started together; re-raise the first error.

    Without `delays`, the n-th action (from 1) starts after a random 0 to n x JITTER
    seconds: the first (e.g. a deletion, which has its own transaction to commit before
    it touches files) tends to start first, so that each order of a race comes up often.
    `delays` (seconds, one per action) sets each start explicitly instead, for tests
    that must see a given order (ValueError if their counts differ). Each thread closes
    its database connections when done. Waits at most 60 s per thread.
    """
    if delays is None:
        delays = [random.uniform(0, n * JITTER) for n in range(1, len(actions) + 1)]  # noqa: S311
    barrier = threading.Barrier(len(actions))
    errors = []

    def run(action, delay):
        try:
            barrier.wait()
            threading.Event().wait(delay)
            action()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(action, delay))
        for action, delay in zip(actions, delays, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
