import functools

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, TransactionTestCase

from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.threads import run_together

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


class SignupWithAnAddressClaimedElsewhereTests(BaseTestCase):
    """An address another account only asked for (a change not yet verified) does not
    stand in the way of its owner's sign-up; one that names an account does."""

    PASSWORD = "a-long-and-unusual-pass"

    def setUp(self):
        self.owner.email = "alice@example.com"
        self.owner.save()
        EmailAddress.objects.create(
            user=self.owner, email="alice@example.com", verified=True, primary=True
        )
        # alice asks for carla's address as her new one and never confirms it
        EmailAddress.objects.create(user=self.owner, email="carla@example.com")

    def signup(self, email="carla@example.com"):
        data = {"username": "carla", "email": email}
        data.update(password1=self.PASSWORD, password2=self.PASSWORD)
        return self.client.post("/accounts/signup/", data)

    def test_its_owner_signs_up_with_it(self):
        self.assertRedirects(self.signup(email="Carla@Example.com"), "/")
        carla = User.objects.get(username="carla")
        self.assertEqual(carla.email, "carla@example.com")

    def test_the_new_member_then_logs_in_with_it_and_alice_does_not(self):
        self.signup()
        self.client.post("/accounts/logout/")
        credentials = {"login": "carla@example.com", "password": self.PASSWORD}
        self.assertRedirects(self.client.post("/accounts/login/", credentials), "/")
        self.client.post("/accounts/logout/")
        credentials["password"] = PASSWORD
        self.assertEqual(self.client.post("/accounts/login/", credentials).status_code, 400)

    def test_once_alice_confirms_it_the_unconfirmed_sign_up_no_longer_logs_in_with_it(self):
        # whoever shows the mailbox is theirs holds the address
        self.signup()
        self.client.post("/accounts/logout/")
        EmailAddress.objects.filter(user=self.owner, email="carla@example.com").update(
            verified=True
        )
        credentials = {"login": "carla@example.com", "password": self.PASSWORD}
        self.assertEqual(self.client.post("/accounts/login/", credentials).status_code, 400)
        credentials["password"] = PASSWORD
        self.assertRedirects(self.client.post("/accounts/login/", credentials), "/")

    def test_its_owner_gets_the_confirmation_mail_even_right_after_the_claims(self):
        # alice's claim mailed the address a moment ago: allauth's cooldown of one mail
        # per address every 3 minutes skipped the sign-up's, and said nothing
        alice = Client()
        alice.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        alice.post("/accounts/reauthenticate/", {"password": PASSWORD})
        EmailAddress.objects.filter(email="carla@example.com").delete()
        answer = alice.post("/accounts/email/", {"email": "carla@example.com", "action_add": ""})
        self.assertEqual(answer.status_code, 302)
        self.assertEqual(len(mail.outbox), 1)
        self.assertRedirects(self.signup(), "/")
        self.assertEqual(len(mail.outbox), 2)
        carla = User.objects.get(username="carla")
        self.assertEqual(mail.outbox[1].to, ["carla@example.com"])
        self.assertIn("/accounts/confirm-email/", mail.outbox[1].body)
        self.assertNotIn("alice", mail.outbox[1].body)
        self.assertIn(carla.username, mail.outbox[1].body)

    def test_an_address_an_account_verified_is_still_refused(self):
        response = self.signup(email="ALICE@example.com")
        self.assertContains(response, "already registered", status_code=400)
        self.assertFalse(User.objects.filter(username="carla").exists())

    def test_an_address_an_account_signed_up_with_is_still_refused(self):
        self.stranger.email = "bob@example.com"
        self.stranger.save()
        EmailAddress.objects.create(user=self.stranger, email="bob@example.com", primary=True)
        response = self.signup(email="bob@example.com")
        self.assertContains(response, "already registered", status_code=400)
        self.assertFalse(User.objects.filter(username="carla").exists())


class SignupsSentAtOnceTests(TransactionTestCase):
    """Two sign-ups sent at once (a double click, a script) make one account; the other
    is answered 400 saying what was taken, not 500 (usernames) and not a second account
    with the same address (MariaDB keeps no address unique: signup_form.try_save)."""

    PASSWORD = "a-long-and-unusual-pass"

    def sign_up_together(self, *usernames, email):
        answers = []

        def send(username):
            data = {"username": username, "email": email}
            data.update(password1=self.PASSWORD, password2=self.PASSWORD)
            answers.append(Client().post("/accounts/signup/", data))

        run_together(*(functools.partial(send, username) for username in usernames))
        return sorted(answer.status_code for answer in answers), answers

    def test_a_double_clicked_sign_up_makes_one_account_and_the_repeat_a_400(self):
        for n in range(4):
            codes, answers = self.sign_up_together(
                f"zed{n}", f"zed{n}", email=f"zed{n}@example.com"
            )
            self.assertEqual(codes, [302, 400])
            refused = next(a for a in answers if a.status_code == 400)
            # the username or the address, whichever the form checked after the first's
            # account was made
            said = refused.content.decode()
            self.assertTrue("already exists" in said or "already registered" in said)
            self.assertEqual(User.objects.filter(username=f"zed{n}").count(), 1)

    def test_sign_ups_with_one_address_sent_at_once_make_one_account(self):
        for n in range(4):
            email = f"race{n}@example.com"
            codes, answers = self.sign_up_together(f"r{n}a", f"r{n}b", f"r{n}c", email=email)
            self.assertEqual(codes, [302, 400, 400])
            for refused in (a for a in answers if a.status_code == 400):
                self.assertContains(refused, "already registered", status_code=400)
            self.assertEqual(User.objects.filter(email=email).count(), 1)
            self.assertEqual(EmailAddress.objects.filter(email=email).count(), 1)
