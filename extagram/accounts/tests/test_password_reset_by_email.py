"""Sign-up, verification and password reset end to end through a real SMTP server."""

from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import override_settings

from extagram.testing.base import BaseTestCase
from extagram.testing.smtp import smtp_server

User = get_user_model()
OLD = "a-long-and-unusual-pass"
NEW = "a-brand-new-long-secret"


class PasswordResetThroughSmtpTests(BaseTestCase):
    def setUp(self):
        server = smtp_server()
        self.inbox, port = server.__enter__()
        self.addCleanup(server.__exit__, None, None, None)
        smtp = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        )
        smtp.enable()
        self.addCleanup(smtp.disable)

    def follow(self, message):
        """The path of the site's link in a received message."""
        links = [link for link in self.inbox.links(message) if "/accounts/" in link]
        self.assertEqual(len(links), 1, links)
        return urlsplit(links[0]).path

    def test_a_new_member_verifies_forgets_resets_and_logs_in(self):
        response = self.client.post(
            "/accounts/signup/",
            {"username": "Nuria", "email": "nuria@example.com", "password1": OLD, "password2": OLD},
        )
        self.assertEqual(response.status_code, 302)

        verification = self.inbox.wait_for(1)
        self.assertEqual(verification["To"], "nuria@example.com")
        self.assertIn("Extagram", verification["Subject"])
        confirm = self.follow(verification)
        self.assertContains(self.client.get(confirm), "nuria@example.com")
        self.client.post(confirm)
        self.assertTrue(EmailAddress.objects.get(email="nuria@example.com").verified)

        self.client.post("/accounts/logout/")
        response = self.client.post("/accounts/password/reset/", {"email": "NURIA@example.com"})
        self.assertEqual(response.status_code, 302)
        reset = self.inbox.wait_for(2)
        self.assertEqual(reset["To"], "nuria@example.com")
        body = reset.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("Hello from Extagram!", body)
        self.assertIn("your username is nuria", body)

        response = self.client.get(self.follow(reset), follow=True)
        self.assertContains(response, 'name="password1"')
        form_path = response.redirect_chain[-1][0] if response.redirect_chain else None
        response = self.client.post(
            form_path or response.request["PATH_INFO"], {"password1": NEW, "password2": NEW}
        )
        self.assertEqual(response.status_code, 302)

        self.assertFalse(
            self.client.login(username="nuria", password=OLD), "the old password still works"
        )
        response = self.client.post("/accounts/login/", {"login": "nuria", "password": NEW})
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "Log out")

    def test_a_reset_link_works_only_once(self):
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)
        self.client.post("/accounts/password/reset/", {"email": "alice@example.com"})
        link = self.follow(self.inbox.wait_for(1))
        response = self.client.get(link, follow=True)
        self.client.post(response.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})
        self.client.get("/")  # a fresh page; the used key must not set a password again
        response = self.client.get(link, follow=True)
        self.assertNotContains(response, 'name="password1"', status_code=404)
        # not "Bad Token", and a 4xx, as for any bad input
        self.assertContains(response, "This link no longer works", status_code=404)
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password(NEW))

    def test_an_unknown_address_gets_no_reset_link(self):
        self.client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
        message = self.inbox.wait_for(1)
        self.assertEqual([link for link in self.inbox.links(message) if "/reset/key/" in link], [])

    def test_a_deactivated_accounts_address_is_told_so_not_offered_a_sign_up(self):
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)
        self.owner.is_active = False
        self.owner.save(update_fields=["is_active"])
        self.client.post("/accounts/password/reset/", {"email": "ALICE@example.com"})
        message = self.inbox.wait_for(1)
        body = message.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("deactivated", message["Subject"].lower())
        self.assertIn("have deactivated that account", body)
        self.assertNotIn("sign up", body)
        self.assertEqual([link for link in self.inbox.links(message) if "/accounts/" in link], [])

    def test_a_mail_server_that_is_down_is_a_message_not_a_500(self):
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)
        with override_settings(EMAIL_PORT=9):  # the discard port: nothing listens
            response = self.client.post(
                "/accounts/password/reset/", {"email": "alice@example.com"}, follow=True
            )
        self.assertLess(response.status_code, 500)
        self.assertContains(response, "could not be sent")
