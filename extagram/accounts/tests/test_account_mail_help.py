"""What the account pages say when a mail may not arrive: allauth's pages said "contact
us", and the site shows no contact; they say what to check instead, in each language."""

import re

from django.test import override_settings
from django.utils import translation

from extagram.testing.base import BaseTestCase

LANGUAGES = ("en", "es", "ca")
CONTACT = re.compile(r"contact|contacto|contacte", re.IGNORECASE)
SPAM = {"en": "spam folder", "es": "carpeta de spam", "ca": "correu brossa"}
# allauth's sentences that said "contact us" (its English msgids, as its templates use them)
HELP = (
    "Please contact us if you have any trouble resetting your password.",
    "We have sent you an email. If you have not received it please check your spam folder. "
    "Otherwise contact us if you do not receive it in a few minutes.",
    "We have sent an email to you for verification. Follow the link provided to finalize the "
    "signup process. If you do not see the verification email in your main inbox, check your "
    "spam folder. Please contact us if you do not receive the verification email within a "
    "few minutes.",
    "We have sent an email to you for\nverification. Please click on the link inside that "
    "email. If you do not see the verification email in your main inbox, check your spam "
    "folder. Otherwise\ncontact us if you do not receive it within a few minutes.",
)


class MailHelpTests(BaseTestCase):
    def tearDown(self):
        translation.activate("en")  # the requests left the thread in Spanish or Catalan

    def test_no_sentence_of_allauths_asks_to_contact_us_in_any_language(self):
        for language in LANGUAGES:
            with translation.override(language):
                for msgid in HELP:
                    shown = translation.gettext(msgid)
                    self.assertNotEqual(shown, msgid, f"{language}: not reworded")
                    self.assertIsNone(CONTACT.search(shown), f"{language}: {shown}")

    def test_the_password_reset_pages_say_what_to_check_instead_of_contact_us(self):
        for language in LANGUAGES:
            headers = {"accept-language": language}
            form = self.client.get("/accounts/password/reset/", headers=headers)
            done = self.client.post(
                "/accounts/password/reset/", {"email": "alice@example.com"}, headers=headers
            )
            self.assertRedirects(done, "/accounts/password/reset/done/")
            done = self.client.get(done.url, headers=headers)
            for page in (form, done):
                text = page.content.decode()
                self.assertIsNone(CONTACT.search(text), f"{language}: {page.request['PATH_INFO']}")
            self.assertContains(done, SPAM[language], msg_prefix=language)

    @override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
    def test_the_page_after_a_sign_up_awaiting_confirmation_says_what_to_check(self):
        for number, language in enumerate(LANGUAGES):
            response = self.client.post(
                "/accounts/signup/",
                {
                    "username": f"newcomer{number}",
                    "email": f"newcomer{number}@example.com",
                    "password1": "a-long-and-unusual-pass",
                    "password2": "a-long-and-unusual-pass",
                },
                headers={"accept-language": language},
                follow=True,
            )
            self.assertContains(response, SPAM[language], msg_prefix=language)
            self.assertIsNone(CONTACT.search(response.content.decode()), language)
