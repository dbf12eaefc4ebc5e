from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from extagram.testing.base import BaseTestCase

User = get_user_model()


class SignupTests(BaseTestCase):
    def signup(self, username="carla", password="a-long-and-unusual-pass", **extra):
        data = {
            "username": username,
            "email": f"{username.lower()}@example.com",
            "password1": password,
            "password2": password,
        }
        data.update(extra)
        return self.client.post("/accounts/signup/", data)

    def test_it_creates_the_account_and_logs_in(self):
        response = self.signup()
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "New post")
        self.assertTrue(User.objects.filter(username="carla").exists())

    def test_it_asks_for_an_email_address_and_keeps_it(self):
        self.assertContains(self.client.get("/accounts/signup/"), 'name="email"')
        self.signup()
        address = EmailAddress.objects.get(user__username="carla")
        self.assertEqual((address.email, address.primary), ("carla@example.com", True))

    def test_an_email_address_is_required(self):
        response = self.signup(email="")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(User.objects.filter(username="carla").exists())

    def test_an_email_address_longer_than_the_database_keeps_is_refused_not_cut(self):
        # Django's field takes 320 characters; 262 were cut to 254 and the mail went there
        response = self.signup(email="x" * 250 + "@example.com")
        self.assertContains(response, "at most 254 characters", status_code=400)
        self.assertFalse(User.objects.filter(username="carla").exists())
        self.assertRedirects(self.signup(email="x" * 242 + "@example.com"), "/")  # 254
        self.assertEqual(User.objects.get(username="carla").email, "x" * 242 + "@example.com")

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
        response = self.signup(password2="a-long-pass-2!")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(User.objects.filter(username="carla").exists())

    def test_the_welcome_message_names_the_new_member(self):
        response = self.signup(username="Carla")
        self.assertContains(self.client.get(response["Location"]), "Welcome to Extagram, carla!")

    def test_a_new_member_is_welcomed_once_not_also_told_they_logged_in(self):
        page = self.client.get(self.signup()["Location"])
        shown = [str(message) for message in page.context["messages"]]
        self.assertEqual(
            shown,
            ["Confirmation e-mail sent to carla@example.com.", "Welcome to Extagram, carla!"],
        )
        self.client.logout()
        self.client.post(
            "/accounts/login/", {"login": "carla", "password": "a-long-and-unusual-pass"}
        )
        shown = [str(message) for message in self.client.get("/").context["messages"]]
        self.assertEqual(shown, ["Successfully logged in as carla."])
