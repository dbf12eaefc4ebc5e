"""The sign-up form (ACCOUNT_FORMS): a module of its own, as allauth's forms module loads
extagram.accounts.forms (the sign-up form's extra fields) while it is half defined."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal.userkit import filter_users_by_email

from .auth_backends import users_named_by


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form, refusing an address only when it names an account
    (`users_named_by`: an account's own address or one it verified).

    allauth refused any address on any account, a change asked for and not yet verified
    included, so one member could keep anyone from signing up by typing that person's
    address on the e-mail page. Such a claim proves nothing and does not stand in the
    way; whoever then confirms the address holds it (allauth lets one account verify it).
    """

    def validate_unique_email(self, value):
        if users_named_by(value, filter_users_by_email(value)):
            return super().validate_unique_email(value)
        self.account_already_exists = False
        return get_adapter().validate_unique_email(value)
