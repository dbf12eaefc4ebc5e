"""TOTP two-factor: enrolment with an authenticator app's code, then logging in with it."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.test import TransactionTestCase, override_settings

from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.threads import run_together
from extagram.testing.totp import totp


def enrol(client, test):
    """Turn on TOTP for the logged-in member (who confirms their password first, as
    allauth asks before any security change); returns the secret."""
    page = client.get("/accounts/2fa/totp/activate/")
    test.assertEqual(page.status_code, 302)
    test.assertTrue(page["Location"].startswith("/accounts/reauthenticate/"), page["Location"])
    client.post(page["Location"], {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    test.assertEqual(page.status_code, 200)
    secret = re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]+)"', page.text)[1]
    test.assertIn("<svg", page.text)  # the QR code, inline (no data: URL)
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp(secret)})
    test.assertEqual(response.status_code, 302, response.content[:2000])
    return secret


# One step of clock tolerance, so the login in the same 30 s can use the next
# code (a code that has been used once is refused again).
@override_settings(MFA_TOTP_TOLERANCE=1)
class TwoFactorTests(BaseTestCase):
    def setUp(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})

    def test_a_member_turns_on_totp_with_a_code_from_their_app(self):
        enrol(self.client, self)
        self.assertTrue(Authenticator.objects.filter(user=self.owner, type="totp").exists())
        self.assertTrue(
            Authenticator.objects.filter(user=self.owner, type="recovery_codes").exists()
        )

    def test_with_an_address_change_pending_it_says_to_finish_or_cancel_it(self):
        # allauth's message spoke of "your email address", which was confirmed
        self.owner.emailaddress_set.create(email="alice@example.com", primary=True, verified=True)
        EmailAddress.objects.create(user=self.owner, email="alice.new@example.com")
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        page = self.client.get("/accounts/2fa/totp/activate/", follow=True)
        self.assertContains(page, "confirm the new address you asked for, or cancel the change")
        self.assertFalse(Authenticator.objects.filter(user=self.owner).exists())

    def test_before_the_sign_up_address_is_confirmed_it_says_to_confirm_that_one(self):
        # there is no change to confirm or cancel on a new account
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", primary=True)
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        page = self.client.get("/accounts/2fa/totp/activate/", follow=True)
        self.assertContains(page, "once your e-mail address is confirmed: follow the link")
        self.assertNotContains(page, "cancel the change")
        self.assertFalse(Authenticator.objects.filter(user=self.owner).exists())

    def test_a_second_tab_or_a_reload_shows_the_same_secret_until_the_app_is_on(self):
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        pages = [self.client.get("/accounts/2fa/totp/activate/").text for _ in range(2)]
        first, second = (re.search(r'value="([A-Z2-7]{16,})"', page)[1] for page in pages)
        self.assertEqual(first, second)
        response = self.client.post("/accounts/2fa/totp/activate/", {"code": totp(first)})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Authenticator.objects.filter(user=self.owner, type="totp").exists())
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        self.client.post("/accounts/2fa/totp/deactivate/")
        page = self.client.get("/accounts/2fa/totp/activate/").text
        self.assertNotEqual(re.search(r'value="([A-Z2-7]{16,})"', page)[1], first)

    def test_a_wrong_code_does_not_turn_it_on(self):
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        page = self.client.get("/accounts/2fa/totp/activate/")
        self.assertEqual(page.status_code, 200)
        response = self.client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Authenticator.objects.filter(user=self.owner).exists())

    def test_login_then_asks_for_the_code_and_accepts_the_apps_code(self):
        secret = enrol(self.client, self)
        self.client.post("/accounts/logout/")
        response = self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.assertRedirects(response, "/accounts/2fa/authenticate/")
        self.assertNotContains(self.client.get("/"), "Log out")

        response = self.client.post("/accounts/2fa/authenticate/", {"code": "123456"})
        self.assertNotContains(self.client.get("/"), "Log out")
        response = self.client.post("/accounts/2fa/authenticate/", {"code": totp(secret, 1)})
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "Log out")

    def test_a_recovery_code_also_logs_in(self):
        enrol(self.client, self)
        codes = Authenticator.objects.get(user=self.owner, type="recovery_codes").wrap()
        code = codes.get_unused_codes()[0]
        self.client.post("/accounts/logout/")
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        response = self.client.post("/accounts/2fa/authenticate/", {"code": code})
        self.assertRedirects(response, "/")

    def test_a_code_sent_by_email_cannot_stand_in_for_the_password_or_second_factor(self):
        # allauth's default would offer "send me a sign-in code" to a verified address.
        self.owner.emailaddress_set.create(email="alice@example.com", primary=True, verified=True)
        page = self.client.get("/accounts/reauthenticate/")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "/accounts/reauthenticate/code/")
        response = self.client.get("/accounts/reauthenticate/code/")
        self.assertNotEqual(response.status_code, 200)

    def test_the_settings_page_links_to_two_factor(self):
        self.assertContains(self.client.get("/accounts/settings/"), 'href="/accounts/2fa/"')
        self.assertEqual(self.client.get("/accounts/2fa/").status_code, 200)

    def test_the_settings_page_says_two_factor_needs_a_verified_address_until_there_is_one(self):
        hint = "needs a verified e-mail address"
        self.assertContains(self.client.get("/accounts/settings/"), hint)
        self.owner.emailaddress_set.create(email="alice@example.com", primary=True, verified=True)
        self.assertNotContains(self.client.get("/accounts/settings/"), hint)


@override_settings(MFA_TOTP_TOLERANCE=1)
class TwoFactorFormsSentAtOnceTests(TransactionTestCase):
    """A double click on Activate, or on a new set of recovery codes, leaves one
    authenticator app and one set of codes. MariaDB keeps none of allauth's conditional
    unique constraints, so the app was made twice there (accounts/views.py now locks the
    member's row first); allauth itself locks it for new recovery codes."""

    def setUp(self):
        user = get_user_model().objects.create_user("mia", "mia@example.com", PASSWORD)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        self.user = user
        self.client.post("/accounts/login/", {"login": "mia", "password": PASSWORD})
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})

    def twice_at_once(self, path, data):
        answers = []

        def send():
            answers.append(self.client.post(path, data))

        run_together(send, send)
        return answers

    def kinds(self):
        return sorted(Authenticator.objects.filter(user=self.user).values_list("type", flat=True))

    def test_activate_sent_twice_at_once_turns_on_one_app_and_both_lead_to_the_codes(self):
        page = self.client.get("/accounts/2fa/totp/activate/")
        secret = re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]+)"', page.text)[
            1
        ]
        answers = self.twice_at_once("/accounts/2fa/totp/activate/", {"code": totp(secret)})
        self.assertEqual({a["Location"] for a in answers}, {"/accounts/2fa/recovery-codes/"})
        self.assertEqual(self.kinds(), ["recovery_codes", "totp"])
        # the pages that read the one of each work
        self.assertEqual(self.client.get("/accounts/2fa/recovery-codes/").status_code, 200)
        self.assertEqual(self.client.get("/accounts/2fa/totp/deactivate/").status_code, 200)

    def test_activate_sent_again_a_moment_later_goes_to_the_codes_too(self):
        # the second of a double click that arrives after the first is done (on SQLite, 1
        # try in 10 of the test above); allauth sent it to the page that turns the app off
        page = self.client.get("/accounts/2fa/totp/activate/")
        secret = re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]+)"', page.text)
        for _ in range(2):
            answer = self.client.post("/accounts/2fa/totp/activate/", {"code": totp(secret[1])})
            self.assertRedirects(answer, "/accounts/2fa/recovery-codes/")
        self.assertEqual(self.kinds(), ["recovery_codes", "totp"])
        # a visit to the page, not a form sent, still goes where allauth sends it
        self.assertRedirects(
            self.client.get("/accounts/2fa/totp/activate/"), "/accounts/2fa/totp/deactivate/"
        )

    def test_new_recovery_codes_sent_twice_at_once_make_one_set(self):
        page = self.client.get("/accounts/2fa/totp/activate/")
        secret = re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]+)"', page.text)[
            1
        ]
        self.client.post("/accounts/2fa/totp/activate/", {"code": totp(secret)})
        for _round in range(4):
            answers = self.twice_at_once("/accounts/2fa/recovery-codes/generate/", {})
            self.assertEqual([a.status_code for a in answers], [302, 302])
            self.assertEqual(self.kinds(), ["recovery_codes", "totp"])
            self.assertEqual(self.client.get("/accounts/2fa/recovery-codes/").status_code, 200)


@override_settings(MFA_TOTP_TOLERANCE=1)
@pytest.mark.ratelimit
class TwoFactorCodeLimitTests(BaseTestCase):
    def setUp(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.secret = enrol(self.client, self)
        self.client.post("/accounts/logout/")

    def log_in(self, address):
        response = self.client.post(
            "/accounts/login/", {"login": "alice", "password": PASSWORD}, REMOTE_ADDR=address
        )
        self.assertRedirects(response, "/accounts/2fa/authenticate/")

    def test_wrong_codes_at_log_in_are_limited_per_account(self):
        self.log_in("10.0.5.1")
        statuses = [
            self.client.post(
                "/accounts/2fa/authenticate/", {"code": f"{200000 + i}"}, REMOTE_ADDR="10.0.5.1"
            ).status_code
            for i in range(6)
        ]
        self.assertEqual(statuses, [400] * 5 + [429])
        response = self.client.post(
            "/accounts/2fa/authenticate/", {"code": totp(self.secret, 1)}, REMOTE_ADDR="10.0.5.1"
        )
        self.assertEqual(response.status_code, 429)
        self.assertNotContains(self.client.get("/"), "Log out")

    def test_a_new_log_in_from_elsewhere_does_not_start_the_count_again(self):
        for i in range(5):
            self.client.cookies.clear()
            self.log_in(f"10.0.6.{i}")
            response = self.client.post(
                "/accounts/2fa/authenticate/", {"code": "000000"}, REMOTE_ADDR=f"10.0.6.{i}"
            )
            self.assertEqual(response.status_code, 400)
        self.client.cookies.clear()
        self.log_in("10.0.6.99")
        response = self.client.post(
            "/accounts/2fa/authenticate/", {"code": "000000"}, REMOTE_ADDR="10.0.6.99"
        )
        self.assertContains(response, "Too many attempts", status_code=429)

    def test_the_right_code_within_the_limit_logs_in(self):
        self.log_in("10.0.7.1")
        self.client.post("/accounts/2fa/authenticate/", {"code": "000000"})
        response = self.client.post("/accounts/2fa/authenticate/", {"code": totp(self.secret, 1)})
        self.assertRedirects(response, "/")
