"""The member a session names, read on every signed-in request."""

from unittest import mock

from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY
from django.urls import reverse

from extagram.accounts import auth_backends
from extagram.accounts.auth_backends import AuthenticationBackend
from extagram.testing.base import PASSWORD, BaseTestCase

OURS = "extagram.accounts.auth_backends.AuthenticationBackend"
DJANGOS = "django.contrib.auth.backends.ModelBackend"


class SessionMemberTests(BaseTestCase):
    def settings_page(self):
        return self.client.get(reverse("account_settings"))

    def test_a_signed_in_request_reads_the_member_by_a_statement_compiled_once(self):
        self.client.force_login(self.owner)
        compile_ = mock.patch.object(
            auth_backends.MEMBER_BY_ID,
            "_compile",
            wraps=auth_backends.MEMBER_BY_ID._compile,
        )
        auth_backends.MEMBER_BY_ID.local.__dict__.clear()
        with compile_ as compiled:
            for _ in range(3):
                self.assertContains(self.settings_page(), "alice")
        self.assertEqual(compiled.call_count, 1)

    def test_it_gives_the_member_for_the_sessions_copy_of_the_key(self):
        backend = AuthenticationBackend()
        self.assertEqual(backend.get_user(str(self.owner.pk)), self.owner)
        self.assertEqual(backend.get_user(self.stranger.pk), self.stranger)
        for odd in ("", "x", "1.5", None, 2**70, str(self.owner.pk + 1000)):
            with self.subTest(user_id=odd):
                self.assertIsNone(backend.get_user(odd))

    def test_a_deactivated_member_is_signed_out(self):
        self.client.force_login(self.owner)
        self.owner.is_active = False
        self.owner.save(update_fields=["is_active"])
        self.assertRedirects(
            self.settings_page(), reverse("login") + "?next=" + reverse("account_settings")
        )

    def test_a_session_djangos_own_backend_logged_in_still_signs_in(self):
        self.client.force_login(self.owner, backend=DJANGOS)
        self.assertContains(self.settings_page(), "alice")

    def test_log_ins_by_username_and_by_address_are_kept_by_the_compiled_backend(self):
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)
        for login in ("alice", "alice@example.com"):
            with self.subTest(login=login):
                self.client.logout()
                response = self.client.post(
                    reverse("login"), {"login": login, "password": PASSWORD}
                )
                self.assertEqual(response.status_code, 302)
                self.assertEqual(self.client.session[BACKEND_SESSION_KEY], OURS)
