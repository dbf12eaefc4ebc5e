"""The "forgot your password" form (ACCOUNT_FORMS): a module of its own, as allauth's forms
module loads extagram.accounts.forms (the sign-up form class) while it is half defined."""

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm

from .auth_backends import users_named_by


class ResetPasswordForm(AllauthResetPasswordForm):
    """allauth's form, mailing a link only to an account the address names
    (`users_named_by`): never to a change of address not yet verified."""

    def clean_email(self):
        email = super().clean_email()
        self.users = users_named_by(email, self.users)
        return email
