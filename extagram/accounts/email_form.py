"""The e-mail page's form, apart from forms.py: allauth imports that module (for
ACCOUNT_SIGNUP_FORM_CLASS) while its own forms module is still being loaded, before it
defines AddEmailForm."""

from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress


class AddEmailForm(allauth_forms.AddEmailForm):
    """allauth's form for adding (or, with ACCOUNT_CHANGE_EMAIL, changing to) an e-mail
    address, refusing one another account has confirmed ("A user is already registered
    with this email address.", a 400).

    allauth lets it through and mails a confirmation link to it, so that the page does
    not reveal which addresses have accounts (ACCOUNT_PREVENT_ENUMERATION). Here that hid
    nothing (sign-up already answers the same sentence for any registered address, as
    allauth does when verification is optional) and let a member name someone else's
    address as theirs and have the site mail its owner, again with each "Re-send", while
    their own unconfirmed address was replaced. An address only pending on another
    account is not refused: nobody has shown it is theirs."""

    def clean_email(self):
        value = super().clean_email()
        confirmed_elsewhere = EmailAddress.objects.filter(
            email__iexact=value, verified=True
        ).exclude(user=self.user)
        if confirmed_elsewhere.exists():
            raise get_adapter().validation_error("email_taken")
        return value
