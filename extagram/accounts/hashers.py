import threading

from django.contrib.auth.hashers import Argon2PasswordHasher

# A gunicorn worker serves on several threads (GUNICORN_THREADS, 4 in the app service), and
# argon2-cffi lets go of the GIL while it hashes: log-ins arriving together each held their
# 12 MiB at once, and eight at a time after some browsing got the workers of the 128 MB app
# containers OOM-killed (503s; docs/performance.md, "Log-ins arriving together"). One hash at
# a time per process costs no throughput: a replica has one CPU, and a hash is all CPU.
_ONE_HASH_AT_A_TIME = threading.RLock()


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id sized for a small host: 12 MiB, 3 passes, 1 lane, one hash at a time per
    process (the others wait their turn), so a process holds 12 MiB for hashing however
    many log-ins arrive together.

    The parameters are one of OWASP's equivalent Argon2id settings (Password
    Storage Cheat Sheet: m=12288 KiB, t=3, p=1). Django's own defaults
    (m=100 MiB, t=2, p=8) would let four concurrent log-ins ask for 400 MiB in
    an app container limited to 128 MiB. Same algorithm name as Django's
    hasher, so hashes made with other parameters still verify and are re-hashed
    with these at the next log-in. CPU per log-in: bench/logins.py.
    """

    time_cost = 3
    memory_cost = 12 * 1024  # KiB
    parallelism = 1

    def encode(self, password, salt):
        with _ONE_HASH_AT_A_TIME:
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with _ONE_HASH_AT_A_TIME:
            return super().verify(password, encoded)
