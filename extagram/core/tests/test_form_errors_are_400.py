"""A form posted back with errors is a 400 on every page, the class-based views' of
Django and allauth included (they answered 200): core.middleware.FormErrorsAre400Middleware."""

from django import forms
from django.template.response import TemplateResponse
from django.test import RequestFactory

from extagram.core.middleware import FormErrorsAre400Middleware
from extagram.testing.base import PASSWORD, BaseTestCase


class NameForm(forms.Form):
    name = forms.CharField()


def answered(form):
    """The status the middleware gives a POST re-rendering `form`."""
    request = RequestFactory().post("/somewhere/", {})
    response = TemplateResponse(request, "400.html", {"form": form})
    return FormErrorsAre400Middleware(lambda r: response).process_template_response(
        request, response
    )


class FormErrorsAre400Tests(BaseTestCase):
    def test_a_password_reset_for_a_malformed_address_is_a_400(self):
        response = self.client.post("/accounts/password/reset/", {"email": "not an address"})
        self.assertContains(response, "Enter a valid e-mail address", status_code=400)

    def test_a_wrong_password_to_confirm_a_change_is_a_400(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post("/accounts/reauthenticate/", {"password": "wrong"})
        self.assertEqual(response.status_code, 400)

    def test_an_admin_form_with_errors_is_a_400(self):
        self.client.login(username="sam", password=PASSWORD)
        response = self.client.post("/admin/social/follow/add/", {"follower": self.owner.pk})
        self.assertEqual(response.status_code, 400)
        oneself = {"follower": self.owner.pk, "followee": self.owner.pk}
        response = self.client.post("/admin/social/follow/add/", oneself)
        # in words, not 'Constraint "follow_not_oneself" is violated.'
        self.assertContains(response, "A member cannot follow themselves.", status_code=400)
        self.assertContains(response, "Extagram administration", status_code=400)

    def test_a_good_form_is_left_as_it_is(self):
        self.assertEqual(answered(NameForm({"name": "ann"})).status_code, 200)
        response = self.client.post("/accounts/password/reset/", {"email": "x@example.com"})
        self.assertEqual(response.status_code, 302)

    def test_a_bound_form_nobody_validated_is_not_validated_here(self):
        # allauth's log-in form authenticates in clean(): validating it here would be a
        # second log-in attempt
        form = NameForm({})
        self.assertEqual(answered(form).status_code, 200)
        self.assertIsNone(form._errors)
        form.is_valid()
        self.assertEqual(answered(form).status_code, 400)
