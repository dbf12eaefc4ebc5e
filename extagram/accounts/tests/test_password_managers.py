"""Account forms as browsers and password managers read them: which account a password
belongs to, and what each field holds."""

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.urls import reverse

from extagram.testing.base import BaseTestCase

HIDDEN_HANDLE = '<input type="text" autocomplete="username" value="{}" hidden readonly>'


class PasswordManagerTests(BaseTestCase):
    def test_each_signed_in_password_form_names_the_member(self):
        self.client.force_login(self.owner)
        for name in ("password_change", "account_delete", "account_reauthenticate"):
            with self.subTest(page=name):
                response = self.client.get(reverse(name))
                self.assertContains(response, HIDDEN_HANDLE.format("alice"), count=1, html=True)

    def test_the_reset_links_form_names_the_account_before_anyone_signs_in(self):
        link = reverse(
            "account_reset_password_from_key",
            kwargs={
                "uidb36": user_pk_to_url_str(self.stranger),
                "key": default_token_generator.make_token(self.stranger),
            },
        )
        response = self.client.get(link, follow=True)
        self.assertContains(response, 'name="password1"')
        self.assertContains(response, HIDDEN_HANDLE.format("bob"), count=1, html=True)

    def test_forms_that_name_the_account_themselves_get_no_second_name(self):
        for name in ("login", "signup"):
            with self.subTest(page=name):
                self.assertNotContains(self.client.get(reverse(name)), "hidden readonly")

    def test_the_log_in_field_is_filled_with_what_sign_up_saved(self):
        for name in ("login", "signup"):
            with self.subTest(page=name):
                self.assertContains(self.client.get(reverse(name)), 'autocomplete="username"')

    def test_the_new_address_field_is_filled_as_an_address(self):
        self.client.force_login(self.owner)
        response = self.client.get(reverse("account_email"))
        self.assertContains(response, 'autocomplete="email"')
        self.assertRegex(response.content.decode(), r'<input required[^>]*name="email"')

    def test_the_hidden_name_is_never_sent(self):
        self.client.force_login(self.owner)
        page = self.client.get(reverse("password_change")).content.decode()
        start = page.index('autocomplete="username"')
        field = page[page.rindex("<input", 0, start) : page.index(">", start)]
        self.assertNotIn("name=", field)

    def test_a_handle_with_markup_is_escaped(self):
        self.owner.username = 'al"ice<b>'
        self.owner.save(update_fields=["username"])
        self.client.force_login(self.owner)
        page = self.client.get(reverse("password_change")).content.decode()
        self.assertIn('value="al&quot;ice&lt;b&gt;"', page)
