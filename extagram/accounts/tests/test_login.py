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
        self.assertContains(response, "are not correct", status_code=400)

    def test_a_member_can_log_in_with_their_email_or_any_letter_case(self):
        self.owner.emailaddress_set.create(email="alice@example.com", primary=True, verified=True)
        for login in ("alice@example.com", "ALICE", "Alice"):
            self.client.logout()
            response = self.client.post("/accounts/login/", {"login": login, "password": PASSWORD})
            self.assertRedirects(response, "/", msg_prefix=login)

    def test_any_spelling_that_signs_up_as_a_name_also_logs_in(self):
        # Sign-up stores the canonical form (NFKC + case fold); log-in must accept the
        # same spellings, full-width letters included.
        for login in ("ＡＬＩＣＥ", "Ａlice", "alice"):
            self.client.logout()
            response = self.client.post("/accounts/login/", {"login": login, "password": PASSWORD})
            self.assertRedirects(response, "/", msg_prefix=login)

    def test_the_form_offers_to_remember_the_member_ticked_to_begin_with(self):
        page = self.client.get("/accounts/login/")
        self.assertContains(page, "Remember me")
        self.assertRegex(page.text, r'<input type="checkbox" name="remember"[^>]* checked')

    def test_remembered_the_session_outlives_the_browser_and_otherwise_not(self):
        for remember, lasts in (("on", True), ("", False)):
            with self.subTest(remember=remember):
                self.client.logout()
                data = {"login": "alice", "password": PASSWORD}
                if remember:
                    data["remember"] = remember
                self.assertRedirects(self.client.post("/accounts/login/", data), "/")
                cookie = self.client.cookies["sessionid"]
                self.assertEqual(bool(cookie["max-age"]), lasts)
                self.assertEqual(self.client.session.get_expire_at_browser_close(), not lasts)

    def test_login_goes_back_to_where_the_member_was(self):
        response = self.client.post(
            "/accounts/login/?next=/upload/",
            {"username": "alice", "password": PASSWORD, "next": "/upload/"},
        )
        self.assertRedirects(response, "/upload/")

    def test_logout_by_get_only_asks_for_confirmation(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertContains(self.client.get("/accounts/logout/"), "csrfmiddlewaretoken")
        self.assertContains(self.client.get("/"), "Log out")


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

    def test_failed_log_ins_for_other_names_do_not_lock_a_member_out(self):
        # the real form sends `login`: its limit was keyed on the absent `username`, one
        # bucket for the whole site
        for i in range(10):
            self.client.post(
                "/accounts/login/",
                {"login": f"ghost{i}", "password": "x"},
                REMOTE_ADDR=f"10.0.1.{i}",
            )
        response = self.client.post(
            "/accounts/login/", {"login": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.1.99"
        )
        self.assertRedirects(response, "/")

    def test_other_members_log_ins_do_not_count_against_one_member(self):
        for i in range(10):
            self.client.post(
                "/accounts/login/",
                {"login": "bob", "password": PASSWORD},
                REMOTE_ADDR=f"10.0.2.{i}",
            )
            self.client.logout()
        response = self.client.post(
            "/accounts/login/", {"login": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.2.99"
        )
        self.assertRedirects(response, "/")

    def test_every_spelling_of_one_account_counts_against_one_limit(self):
        self.owner.emailaddress_set.create(email="alice@example.com", primary=True, verified=True)
        spellings = ["alice", "ALICE", "Alice", " alice", "ａｌｉｃｅ", "alice@example.com"]
        spellings += ["ALICE@example.COM", " alice@example.com ", "aLiCe", "alice "]
        for i, login in enumerate(spellings):
            response = self.client.post(
                "/accounts/login/",
                {"login": login, "password": f"guess{i}"},
                REMOTE_ADDR=f"10.0.3.{i}",
            )
            self.assertEqual(response.status_code, 400, login)
        response = self.client.post(
            "/accounts/login/", {"login": "Alice", "password": PASSWORD}, REMOTE_ADDR="10.0.3.99"
        )
        self.assertEqual(response.status_code, 429)
        self.assertNotContains(self.client.get("/"), "Log out")

    def test_a_name_of_no_account_is_limited_in_every_spelling_too(self):
        for i, login in enumerate(["nobody", "NOBODY", " Nobody", "ｎｏｂｏｄｙ"] * 3):
            response = self.client.post(
                "/accounts/login/", {"login": login, "password": "x"}, REMOTE_ADDR=f"10.0.4.{i}"
            )
        self.assertEqual(response.status_code, 429)
