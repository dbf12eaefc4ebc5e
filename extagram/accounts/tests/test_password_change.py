from extagram.testing.base import PASSWORD, BaseTestCase


class PasswordChangeTests(BaseTestCase):
    def change(self, old, new, path="/accounts/password/change/"):
        return self.client.post(path, {"oldpassword": old, "password1": new, "password2": new})

    def test_a_member_changes_their_password(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.change(PASSWORD, "another-quite-long-pass")
        self.assertEqual(response.status_code, 302)
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password("another-quite-long-pass"))

    def test_the_old_address_still_changes_the_password(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertContains(self.client.get("/accounts/password/"), "oldpassword")
        self.change(PASSWORD, "another-quite-long-pass", path="/accounts/password/")
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password("another-quite-long-pass"))

    def test_a_wrong_old_password_changes_nothing(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.change("wrong", "x-long-pass-9")
        self.assertEqual(response.status_code, 400)
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password(PASSWORD))

    def test_anonymous_visitors_cannot_see_the_form(self):
        response = self.client.get("/accounts/password/")
        self.assertEqual(response.status_code, 302)
