"""CPU per log-in with each password hasher: `python -m bench.logins [--logins N]`.

Runs the site in-process on a throw-away SQLite database, creates one member per
hasher, and posts the real log-in form N times for each through Django's test
client, timing the process's CPU (time.process_time: every thread, so Argon2's
lanes count) and the wall clock. Rows:

  pbkdf2 (before)   Django's PBKDF2-SHA256 default, what Extagram used before
  argon2 django     Django's Argon2 defaults (m=100 MiB, t=2, p=8), for comparison
  argon2id (now)    extagram.accounts.hashers.Argon2idHasher (m=12 MiB, t=3, p=1)
  upgrade           the first log-in of a PBKDF2 member after the switch (verifies
                    PBKDF2, then re-hashes with Argon2id)
  md5 (floor)       salted MD5 (never for real use): the cost of the request around the hash

Prints a table; asserts nothing.
"""

import argparse
import os
import sys
import tempfile
import time

from bench.inprocess import start_django


def measure(client, login, password, count, before_each=None):
    cpu = wall = 0.0
    for _ in range(count):
        if before_each:
            before_each()
        client.cookies.clear()
        c0, w0 = time.process_time(), time.perf_counter()
        response = client.post("/accounts/login/", {"login": login, "password": password})
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        if response.status_code != 302:
            raise SystemExit(f"log-in as {login} answered {response.status_code}")
    return cpu / count * 1000, wall / count * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=10, help="log-ins per row (default 10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        start_django(data_dir)
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password
        from django.test import Client
        from django.test.utils import override_settings

        User = get_user_model()
        password = "a-long-and-unusual-pass"  # noqa: S105 -- a throw-away bench member
        client = Client(HTTP_HOST="localhost")
        plain = "django.contrib.auth.hashers.MD5PasswordHasher"
        rows = []
        cases = [
            ("pbkdf2 (before)", "django.contrib.auth.hashers.PBKDF2PasswordHasher"),
            ("argon2 django", "django.contrib.auth.hashers.Argon2PasswordHasher"),
            ("argon2id (now)", "extagram.accounts.hashers.Argon2idHasher"),
        ]
        for n, (label, hasher) in enumerate(cases):
            with override_settings(PASSWORD_HASHERS=[hasher]):
                User.objects.create(username=f"bench{n}", password=make_password(password))
                rows.append((label, *measure(client, f"bench{n}", password, args.logins)))

        def reset_to_pbkdf2():
            with override_settings(PASSWORD_HASHERS=[cases[0][1]]):
                User.objects.filter(username="upgrader").update(password=make_password(password))

        User.objects.create(username="upgrader")
        rows.append(
            ("upgrade", *measure(client, "upgrader", password, args.logins, reset_to_pbkdf2))
        )
        assert User.objects.get(username="upgrader").password.startswith("argon2$")
        with override_settings(PASSWORD_HASHERS=[plain]):
            User.objects.create(username="floor", password=make_password(password))
            rows.append(("md5 (floor)", *measure(client, "floor", password, args.logins)))

    print(f"CPU per log-in, {args.logins} log-ins per row, {os.cpu_count()} CPUs")
    print(f"{'hasher':<18}{'CPU ms':>10}{'wall ms':>10}")
    for label, cpu, wall in rows:
        print(f"{label:<18}{cpu:>10.1f}{wall:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
