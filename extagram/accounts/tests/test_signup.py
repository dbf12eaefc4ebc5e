from django.contrib.auth import get_user_model

from extagram.testing.base import BaseTestCase

User = get_user_model()


class SignupTests(BaseTestCase):
    def signup(self, username="carla", password="a-long-and-unusual-pass"):
        return self.client.post(
            "/accounts/signup/",
            {"username": username, "password1": password, "password2": password},
        )

    def test_it_creates_the_account_and_logs_in(self):
        response = self.signup()
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "New post")
        self.assertTrue(User.objects.filter(username="carla").exists())

    def test_the_password_is_stored_hashed(self):
        self.signup()
        user = User.objects.get(username="carla")
        self.assertNotIn("a-long-and-unusual-pass", user.password)
        self.assertTrue(user.check_password("a-long-and-unusual-pass"))

    def test_a_taken_username_is_refused(self):
        response = self.signup(username="Alice")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(User.objects.filter(username__iexact="alice").count(), 1)

    def test_a_weak_password_is_refused(self):
        response = self.signup(password="12345678")
        self.assertContains(response, "too common", status_code=400)
        self.assertFalse(User.objects.filter(username="carla").exists())

    def test_mismatched_passwords_are_refused(self):
        response = self.client.post(
            "/accounts/signup/",
            {"username": "carla", "password1": "a-long-pass-1!", "password2": "a-long-pass-2!"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(User.objects.filter(username="carla").exists())
