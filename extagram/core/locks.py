"""A lock by name across every process and replica, held in the database."""

import contextlib
import hashlib

from django.db import OperationalError, connection

# Seconds a caller waits for a named lock before giving up (OperationalError).
WAIT_SECONDS = 10


@contextlib.contextmanager
def named_lock(name, timeout=WAIT_SECONDS):
    """Hold the lock called `name` (a str) for the block: one holder at a time, on every
    process and replica that shares the database.

    MariaDB/MySQL: the server's user-level lock (GET_LOCK, RELEASE_LOCK: held by the
    connection, not a transaction, so a transaction inside the block commits before the
    lock is released; https://mariadb.com/kb/en/get_lock/), named by a SHA-1 of `name` to
    stay within the server's 64 characters. SQLite: nothing to take, as this site's
    transactions there begin IMMEDIATE (settings), one writer at a time, so a transaction
    inside the block that checks and then writes is already alone. Raises
    OperationalError when the lock is not had within `timeout` seconds.
    """
    if connection.vendor != "mysql":
        yield
        return
    key = "extagram:" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [key, timeout])
        (got,) = cursor.fetchone()
    if got != 1:
        raise OperationalError(f"the lock {name!r} was not had within {timeout} s")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [key])
