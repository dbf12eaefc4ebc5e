"""The admin's log-in is the site's: two-factor and the log-in limits hold for staff too."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from extagram.accounts.tests.test_two_factor import enrol
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.totp import totp


# the code after the one that turned the app on (a used code is refused again)
@override_settings(MFA_TOTP_TOLERANCE=1)
class AdminLoginTests(BaseTestCase):
    def test_the_admin_log_in_sends_a_visitor_to_the_sites_log_in(self):
        response = self.client.get("/admin/login/?next=/admin/posts/post/")
        self.assertRedirects(
            response,
            "/accounts/login/?next=%2Fadmin%2Fposts%2Fpost%2F",
            fetch_redirect_response=False,
        )

    def test_a_password_posted_to_it_logs_nobody_in(self):
        response = self.client.post(
            "/admin/login/?next=/admin/", {"username": "sam", "password": PASSWORD}
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/login/"))
        self.assertEqual(self.client.get("/admin/").status_code, 302)

    def test_staff_with_two_factor_give_the_code_before_the_admin_opens(self):
        self.client.login(username="sam", password=PASSWORD)
        secret = enrol(self.client, self)
        self.client.logout()
        response = self.client.post(
            "/accounts/login/?next=/admin/",
            {"login": "sam", "password": PASSWORD, "next": "/admin/"},
        )
        self.assertRedirects(response, "/accounts/2fa/authenticate/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/admin/").status_code, 302)  # not in yet
        response = self.client.post("/accounts/2fa/authenticate/", {"code": totp(secret, 1)})
        self.assertRedirects(response, "/admin/", fetch_redirect_response=False)
        self.assertContains(self.client.get("/admin/"), "Extagram administration")

    def test_a_member_who_is_not_staff_is_refused(self):
        self.client.login(username="bob", password=PASSWORD)
        self.assertEqual(self.client.get("/admin/login/").status_code, 403)


@pytest.mark.ratelimit
class AdminLoginLimitTests(BaseTestCase):
    def test_guessing_a_staff_password_meets_the_log_in_limit(self):
        for i in range(10):
            self.client.post(
                "/accounts/login/",
                {"login": "sam", "password": f"guess{i}"},
                REMOTE_ADDR=f"10.0.8.{i}",
            )
        response = self.client.post(
            "/accounts/login/", {"login": "SAM", "password": PASSWORD}, REMOTE_ADDR="10.0.8.99"
        )
        self.assertEqual(response.status_code, 429)
        self.assertTrue(get_user_model().objects.get(username="sam").is_staff)
