"""Race real threads against the test database (each thread its own connection)."""

import random
import threading

from django.db import connections

# Threads wait a random few milliseconds after their common start, so that racing
# transactions meet in every order over a test's rounds.
JITTER = 0.005


def run_together(*actions):
    """Run each action in its own thread, started together; re-raise the first error.

    The n-th action (from 1) starts after a random 0 to n x JITTER seconds: the first
    (e.g. a deletion, which has its own transaction to commit before it touches files)
    tends to start first, so that each order of a race comes up often. Each thread
    closes its database connections when done. Waits at most 60 s per thread.
    """
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
        threading.Thread(target=run, args=(action, random.uniform(0, n * JITTER)))  # noqa: S311
        for n, action in enumerate(actions, start=1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
