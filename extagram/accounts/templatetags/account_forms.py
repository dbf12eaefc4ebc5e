"""What a password form shows password managers besides its own fields."""

from django import forms, template
from django.utils.html import format_html

register = template.Library()

SIGN_IN_NAMES = {"username", "email"}


@register.simple_tag(takes_context=True)
def username_for_password_managers(context, form):
    """A hidden `autocomplete="username"` field holding the member's handle, for a form
    that asks for a password but names no account (password change and reset, confirming
    one's password, deleting the account); "" for any other form, or with nobody to name.

    Password managers file a password under the username beside it in the form: without
    one they cannot tell which saved password a new one replaces, nor fill the right one
    in. Chromium's advice, which its console repeats on such forms: "Create Amazing
    Password Forms" (chromium.org/developers/design-documents/create-amazing-password-forms).
    The field has no name, so it is never sent. The member is the form's `user` (allauth's
    reset-by-link form knows it before anyone signs in), else the signed-in visitor.
    """
    widgets = [field.field.widget for field in form.visible_fields()]
    if not any(isinstance(widget, forms.PasswordInput) for widget in widgets):
        return ""
    if any(widget.attrs.get("autocomplete") in SIGN_IN_NAMES for widget in widgets):
        return ""
    member = getattr(form, "user", None) or context.get("user")
    if member is None or not member.is_authenticated:
        return ""
    return format_html(
        '<input type="text" autocomplete="username" value="{}" hidden readonly>', member.username
    )
