"""Which accounts an e-mail address names, for logging in and for a password reset; and
the signed-in member of each request."""

from allauth.account import app_settings
from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from extagram.core.locks import named_lock
from extagram.core.statements import CompiledQuery

from .usernames import canonical

# The member a session names, read on every signed-in request: Django builds and compiles
# this statement anew each time (ModelBackend.get_user), a fifth of a signed-in request's
# floor (docs/performance.md, "The signed-in member's row, compiled once").
MEMBER_BY_ID = CompiledQuery(lambda pk: get_user_model()._default_manager.filter(pk=pk))


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


def deactivated_accounts(email):
    """The accounts staff deactivated that `email` names (a list of User, as
    `users_named_by` reads an address)."""
    users = filter_users_by_email(email, is_active=False, prefer_verified=True)
    return users_named_by(email, users)


def accounts_named_by_login(typed):
    """The primary keys (a sorted list of int) of the accounts a log-in form's username or
    e-mail field names, read as AuthenticationBackend reads it: an address (anything with
    an @) names what `users_named_by` gives, a username its canonical spelling, so "GINA",
    " gina" and full-width "ｇｉｎａ" all name gina's account. [] when it names none."""
    typed = typed.strip()
    if "@" in typed:
        users = filter_users_by_email(typed, prefer_verified=True, for_login=True)
        return sorted(user.pk for user in users_named_by(typed, users))
    users = get_user_model()._default_manager.filter(username=canonical(typed))
    return sorted(users.values_list("pk", flat=True))


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
    naming only the accounts `users_named_by` gives, and the session's member read by a
    statement compiled once."""

    def get_user(self, user_id):
        """The active User whose primary key is `user_id` (the session's copy: a str, or
        an int), or None: as ModelBackend.get_user, which Django calls for every request
        of a session this backend logged in, without building and compiling the SQL each
        time."""
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = MEMBER_BY_ID.instances(pk, limit=1)
        if not found or not self.user_can_authenticate(found[0]):
            return None
        return found[0]

    def _authenticate_by_email(self, email, password):
        if not email or app_settings.LoginMethod.EMAIL not in app_settings.LOGIN_METHODS:
            return None
        users = filter_users_by_email(email, prefer_verified=True, for_login=True)
        for user in users_named_by(email, users):
            if self._check_password(user, password):
                return user
        return None
