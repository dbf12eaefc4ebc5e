from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id sized for a small host: 12 MiB, 3 passes, 1 lane.

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
