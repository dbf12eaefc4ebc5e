"""A new secret key, rolled out in two steps (`extagram-ops --swarm STACK rotate-secret
secret_key`): first every task takes the new key as a fallback, then the new key becomes
the key and the old one the fallback. Members stay signed in through both steps, while
tasks of either step serve them, and links mailed before keep working."""

from http.cookies import SimpleCookie

from django.contrib.auth.tokens import default_token_generator
from django.test import Client, override_settings
from django.urls import reverse

from extagram.testing.base import BaseTestCase, signed_in

OLD = "old-kP3x9vQzLm2sW8yT4nB6cR0dF1gH5jK7-old-kP3x9vQzLm2sW8yT4nB6c"
NEW = "new-Zq8wE2rT5yU7iO9pA1sD3fG6hJ4kL0xC-new-Zq8wE2rT5yU7iO9pA1sD3f"
BEFORE = {"SECRET_KEY": OLD, "SECRET_KEY_FALLBACKS": []}
STEP_1 = {"SECRET_KEY": OLD, "SECRET_KEY_FALLBACKS": [NEW]}
STEP_2 = {"SECRET_KEY": NEW, "SECRET_KEY_FALLBACKS": [OLD]}
AFTER_ANOTHER = {"SECRET_KEY": "another-" + NEW, "SECRET_KEY_FALLBACKS": [NEW]}


class SecretKeyRotationTests(BaseTestCase):
    def is_signed_in(self, browser, keys):
        with override_settings(**keys):
            return browser.get(reverse("account_settings")).status_code == 200

    def test_a_member_stays_signed_in_whichever_step_each_request_meets(self):
        with override_settings(**BEFORE):
            browser = signed_in(self.owner)
        # the rolling updates mix the tasks of two steps: any order, any number of times
        for keys in (STEP_1, STEP_2, STEP_1, STEP_2, STEP_2, STEP_1, STEP_2):
            self.assertTrue(self.is_signed_in(browser, keys), keys)

    def test_a_member_signed_in_on_a_new_task_stays_signed_in_on_an_old_one(self):
        with override_settings(**STEP_2):
            browser = signed_in(self.owner)
        self.assertTrue(self.is_signed_in(browser, STEP_1))

    def test_requests_already_on_their_way_with_the_cookie_stay_signed_in(self):
        # two tabs (or a page and its fetches) send the same cookie; the first answer to
        # arrive after the rotation must not sign the other request out
        with override_settings(**BEFORE):
            browser = signed_in(self.owner)
        other_tab = Client()
        other_tab.cookies = SimpleCookie({k: m.value for k, m in browser.cookies.items()})
        self.assertTrue(self.is_signed_in(browser, STEP_2))
        self.assertTrue(self.is_signed_in(other_tab, STEP_2))
        self.assertEqual(browser.cookies["sessionid"].value, other_tab.cookies["sessionid"].value)
        self.assertTrue(self.is_signed_in(browser, STEP_1))

    def test_the_key_two_rotations_back_signs_the_session_out(self):
        with override_settings(**BEFORE):
            browser = signed_in(self.owner)
        self.assertFalse(self.is_signed_in(browser, AFTER_ANOTHER))

    def test_without_the_fallback_a_new_key_signs_every_member_out(self):
        with override_settings(**BEFORE):
            browser = signed_in(self.owner)
        self.assertFalse(self.is_signed_in(browser, {"SECRET_KEY": NEW}))

    def test_a_password_reset_link_mailed_before_the_rotation_still_works(self):
        with override_settings(**BEFORE):
            token = default_token_generator.make_token(self.owner)
        with override_settings(**STEP_2):
            self.assertTrue(default_token_generator.check_token(self.owner, token))
        with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
            self.assertFalse(default_token_generator.check_token(self.owner, token))
