"""Argon2id is the password hasher; older hashes are upgraded at the next log-in."""

import importlib

from django.contrib.auth.hashers import make_password
from django.test import override_settings

from extagram.testing.base import PASSWORD, BaseTestCase

HASHERS = [
    "extagram.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


class PasswordHashingTests(BaseTestCase):
    def test_the_site_hashes_with_argon2id_first(self):
        # The test run swaps in a fast hasher; read what the settings module says.
        site = importlib.import_module("extagram.settings")
        self.assertEqual(site.PASSWORD_HASHERS[0], HASHERS[0])
        self.assertIn(HASHERS[1], site.PASSWORD_HASHERS)

    @override_settings(PASSWORD_HASHERS=HASHERS)
    def test_new_passwords_are_argon2id_with_small_host_parameters(self):
        encoded = make_password(PASSWORD)
        self.assertTrue(encoded.startswith("argon2$argon2id$v=19$m=12288,t=3,p=1$"), encoded)

    @override_settings(PASSWORD_HASHERS=HASHERS)
    def test_a_pbkdf2_hash_is_upgraded_at_the_next_login(self):
        self.owner.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        self.owner.save(update_fields=["password"])
        response = self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.assertRedirects(response, "/")
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.password.startswith("argon2$argon2id$"), self.owner.password)
        self.assertTrue(self.owner.check_password(PASSWORD))

    @override_settings(PASSWORD_HASHERS=HASHERS)
    def test_a_wrong_password_upgrades_nothing(self):
        old = make_password(PASSWORD, hasher="pbkdf2_sha256")
        self.owner.password = old
        self.owner.save(update_fields=["password"])
        self.client.post("/accounts/login/", {"login": "alice", "password": "wrong"})
        self.owner.refresh_from_db()
        self.assertEqual(self.owner.password, old)
