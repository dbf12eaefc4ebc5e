"""The sign-up form (ACCOUNT_FORMS): a module of its own, as allauth's forms module loads
extagram.accounts.forms (the sign-up form's extra fields) while it is half defined."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.db import IntegrityError, transaction

from .auth_backends import address_lock, users_named_by


class SignupConflict(Exception):
    """Another sign-up took this form's username or e-mail address after the form's
    checks passed (two sent at once: a double click, a script). The view validates the
    form again, which then says which."""


def _address_names_an_account(email):
    return bool(email) and bool(users_named_by(email, filter_users_by_email(email)))


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form, refusing an address only when it names an account
    (`users_named_by`: an account's own address or one it verified).

    allauth refused any address on any account, a change asked for and not yet verified
    included, so one member could keep anyone from signing up by typing that person's
    address on the e-mail page. Such a claim proves nothing and does not stand in the
    way; whoever then confirms the address holds it (one account verifies it:
    AccountAdapter.confirm_email). Two sign-ups with one address or username sent at
    once make one account (try_save).
    """

    def validate_unique_email(self, value):
        if _address_names_an_account(value):
            return super().validate_unique_email(value)
        self.account_already_exists = False
        return get_adapter().validate_unique_email(value)

    def try_save(self, request):
        """allauth's save, alone for its address (address_lock): the address is checked
        again and the account made in one transaction, so two sign-ups sent at once make
        one account (the database keeps usernames unique but cannot
        keep addresses unique: an unverified one may also be pending on other accounts).
        A claim on another account does not hold up the new account's confirmation mail.
        Raises SignupConflict when another sign-up took the address or the username."""
        email = (self.cleaned_data.get("email") or "").lower()
        try:
            with address_lock(email), transaction.atomic():
                if _address_names_an_account(email):
                    raise SignupConflict(email)
                if EmailAddress.objects.filter(email__iexact=email).exists():
                    # only claimed on another account (a change not verified): that
                    # claim's mail must not use up allauth's one mail per address every
                    # 3 minutes (confirm_email), which skipped this sign-up's unsaid
                    ratelimit.clear(request, action="confirm_email", key=email)
                return super().try_save(request)
        except IntegrityError as error:  # the username, or its handle, taken meanwhile
            raise SignupConflict(error) from error
