"""Which accounts an e-mail address names, for logging in and for a password reset."""

from allauth.account import app_settings
from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.models import EmailAddress

from extagram.core.locks import named_lock


def users_named_by(email, users):
    """Of `users` (allauth's match for `email`, a list of User), the ones the address
    identifies: the account that verified it, or else the ones whose own address it is
    (User.email: the one signed up with, or one that replaced it). A change asked for and
    not yet verified proves nothing (anyone can type any address into the form), so it
    neither logs in nor gets a password-reset link: it did both through allauth's
    lookup, which takes unverified addresses when no one has verified that one. And once
    an account has verified the address, another's unverified sign-up with it no longer
    names that one either."""
    email = email.lower()
    verified = set(
        EmailAddress.objects.filter(email__iexact=email, verified=True).values_list(
            "user_id", flat=True
        )
    )
    if verified:
        return [user for user in users if user.pk in verified]
    return [user for user in users if user.email.lower() == email]


def address_lock(email):
    """The lock (core.locks.named_lock, a context manager) held while an account comes
    to hold the address `email`: signing up with it, confirming it. The database cannot
    keep one account per address (an unverified one may be pending on several, and
    MariaDB keeps none of allauth's conditional unique constraints: models.W036), so the
    check and the write are made alone, in a transaction inside the lock. Raises
    OperationalError when the lock is not had in time."""
    return named_lock(f"address:{email.lower()}")


class AuthenticationBackend(AllauthBackend):
    """allauth's backend (username or e-mail and password), with an e-mail address
    naming only the accounts `users_named_by` gives."""

    def _authenticate_by_email(self, email, password):
        if not email or app_settings.LoginMethod.EMAIL not in app_settings.LOGIN_METHODS:
            return None
        users = filter_users_by_email(email, prefer_verified=True, for_login=True)
        for user in users_named_by(email, users):
            if self._check_password(user, password):
                return user
        return None
