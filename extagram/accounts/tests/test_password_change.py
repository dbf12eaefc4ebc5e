from extagram.testing.base import PASSWORD, BaseTestCase


class PasswordChangeTests(BaseTestCase):
    def test_a_member_changes_their_password(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "another-quite-long-pass",
                "new_password2": "another-quite-long-pass",
            },
        )
        self.assertRedirects(response, "/")
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password("another-quite-long-pass"))

    def test_a_wrong_old_password_changes_nothing(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(
            "/accounts/password/",
            {
                "old_password": "wrong",
                "new_password1": "x-long-pass-9",
                "new_password2": "x-long-pass-9",
            },
        )
        self.assertEqual(response.status_code, 400)
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password(PASSWORD))

    def test_anonymous_visitors_cannot_see_the_form(self):
        response = self.client.get("/accounts/password/")
        self.assertEqual(response.status_code, 302)
