import pytest

from extagram.testing.base import PASSWORD, BaseTestCase


class LoginTests(BaseTestCase):
    def test_a_member_logs_in_and_out(self):
        response = self.client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "Log out")
        response = self.client.post("/accounts/logout/")
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "Log in")

    def test_a_wrong_password_is_a_400_with_a_message(self):
        response = self.client.post("/accounts/login/", {"username": "alice", "password": "nope"})
        self.assertContains(response, "Please enter a correct username", status_code=400)

    def test_login_goes_back_to_where_the_member_was(self):
        response = self.client.post(
            "/accounts/login/?next=/upload/",
            {"username": "alice", "password": PASSWORD, "next": "/upload/"},
        )
        self.assertRedirects(response, "/upload/")

    def test_logout_by_get_is_refused(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get("/accounts/logout/").status_code, 405)


@pytest.mark.ratelimit
class LoginRateLimitTests(BaseTestCase):
    def test_hammering_login_gets_429(self):
        statuses = [
            self.client.post(
                "/accounts/login/", {"username": "alice", "password": f"guess{i}"}
            ).status_code
            for i in range(15)
        ]
        self.assertEqual(statuses[:10], [400] * 10)
        self.assertEqual(statuses[-1], 429)

    def test_the_429_page_is_friendly(self):
        for i in range(11):
            response = self.client.post("/accounts/login/", {"username": "x", "password": str(i)})
        self.assertContains(response, "Too many attempts", status_code=429)

    def test_guessing_one_account_from_many_addresses_is_limited_too(self):
        for i in range(12):
            response = self.client.post(
                "/accounts/login/",
                {"username": "alice", "password": f"guess{i}"},
                REMOTE_ADDR=f"10.0.0.{i}",
            )
        self.assertEqual(response.status_code, 429)
