import logging
import smtplib

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from extagram.core.redirects import safe_target

from .auth_backends import address_lock, deactivated_accounts
from .models import lock_member
from .usernames import canonical, validate_handle

log = logging.getLogger("extagram.mail")


class AccountAdapter(DefaultAccountAdapter):
    """allauth, with Extagram's handle rules (usernames.py) on every username it accepts."""

    def clean_username(self, username, shallow=False):
        """Returns the canonical handle; raises ValidationError naming each broken rule."""
        name = canonical(username)
        validate_handle(name)
        return super().clean_username(name, shallow=shallow)

    def clean_email(self, email):
        """Refuses an address longer than the database keeps (ValidationError, Django's own
        translated max-length message): 254 characters, ACCOUNT_EMAIL_MAX_LENGTH's and
        User.email's length (RFC 5321, 4.5.3.1.3: a path of 256 octets, less its angle
        brackets). Django's form field takes 320, and a longer address was cut to 254 on a
        new account (its verification mail went to the cut one) or failed the database as
        a change (a 5xx). allauth calls this from the sign-up, e-mail and reset forms."""
        MaxLengthValidator(app_settings.EMAIL_MAX_LENGTH)(email)
        return super().clean_email(email)

    def confirm_email(self, request, email_address):
        """allauth's confirmation of `email_address` (an EmailAddress), alone for the
        address (auth_backends.address_lock): the address is read again and allauth's
        check that no other account verified it made and acted on in one transaction, so
        links to one address on several accounts followed at once leave one account
        holding it (two or three did on MariaDB); the others fail as a late one does.
        The member's row is locked too (models.lock_member), as confirming makes the
        address the one in use and removes the member's others.
        Other accounts' changes to the address, still pending, are dropped once it is
        confirmed (_drop_changes_to): no account can confirm it any more, and their pages
        offered to mail it again, to its new holder.
        Returns True when the address is confirmed, now or already (a link followed
        twice at once), False when another account holds it (or held it first, and this
        change was dropped)."""
        with address_lock(email_address.email), transaction.atomic():
            lock_member(email_address.user_id)
            try:
                email_address.refresh_from_db()
            except EmailAddress.DoesNotExist:  # dropped by another account's confirmation
                return False
            if email_address.verified:
                return True
            confirmed = super().confirm_email(request, email_address)
            if confirmed:
                _drop_changes_to(email_address)
            return confirmed

    def can_delete_email(self, email_address):
        """False for the address in use (the primary one): allauth lets a member remove it
        when it is their only one and they sign in by username, which left an account no
        notice or reset could reach. A pending new address can go (its "Cancel change")."""
        return not email_address.primary and super().can_delete_email(email_address)

    def is_safe_url(self, url):
        """allauth's `next` targets follow the site's one rule (core/redirects.py)."""
        return safe_target(url, allauth_context.request) is not None

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        """allauth's messages, less its "Successfully logged in as ..." right after a
        sign-up, which the sign-up view's welcome says already (views.SignupView)."""
        match = getattr(request, "resolver_match", None)
        signing_up = match is not None and match.url_name in ("signup", "account_signup")
        if signing_up and message_template == "account/messages/logged_in.txt":
            return
        super().add_message(request, level, message_template, *args, **kwargs)

    def save_user(self, request, user, form, commit=True):
        # The user row and its profile (written by a post_save signal) together or
        # not at all: a handle taken in a race fails on the profile's unique index.
        with transaction.atomic():
            return super().save_user(request, user, form, commit=commit)

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        """allauth's notice of a change to the account, its time given with the zone
        (allauth's read "Dec. 2, 2026, 2:08 p.m.", in no zone the reader could tell)."""
        when = timezone.localtime()
        stamp = f"{date_format(when, 'DATETIME_FORMAT')} {when.tzname()}"
        context = {"timestamp": stamp, **(context or {})}
        super().send_notification_mail(template_prefix, user, context, email)

    def send_mail(self, template_prefix, email, context):
        """Send as allauth does; if the mail server fails, say so instead of a 500.

        For an address of an account staff deactivated, allauth's "unknown account" mail
        (a password reset asked for it) said there was no such account and offered a
        sign-up the address could not make: it says the account is deactivated instead."""
        if template_prefix == "account/email/unknown_account" and deactivated_accounts(email):
            template_prefix = "account/email/inactive_account"
        try:
            super().send_mail(template_prefix, email, context)
        except (OSError, smtplib.SMTPException):
            log.exception("could not send %s to %s", template_prefix, email)
            request = allauth_context.request
            if request is not None:
                messages.error(
                    request,
                    _(
                        "The e-mail to %(email)s could not be sent just now. "
                        "Please try again in a few minutes."
                    )
                    % {"email": email},
                )


# allauth refuses a new, unverified address on an account two-factor authentication
# protects (MFA_ALLOW_UNVERIFIED_EMAIL: otherwise someone could hold another person's
# address behind a second factor its owner cannot pass). Its message said only "cannot
# add", to someone changing their address; this one says what to do.
EMAIL_CHANGE_WITH_TWO_FACTOR = gettext_lazy(
    "While two-factor authentication is on, the e-mail address cannot be changed: turn it "
    "off in Settings, change the address and confirm it, then turn it on again."
)


# allauth refuses two-factor while any of the account's addresses is unconfirmed, a
# pending change included; its message spoke of "your email address" to someone whose
# address in use is confirmed.
TWO_FACTOR_WITH_AN_UNCONFIRMED_ADDRESS = gettext_lazy(
    "Two-factor authentication can be turned on once every e-mail address on your account "
    "is confirmed: confirm the new address you asked for, or cancel the change, first."
)


# The same refusal to a member who has no confirmed address yet (a new account): there is
# no change to confirm or cancel, only the sign-up address to confirm.
TWO_FACTOR_BEFORE_THE_ADDRESS_IS_CONFIRMED = gettext_lazy(
    "Two-factor authentication can be turned on once your e-mail address is confirmed: "
    "follow the link in the mail we sent you, or have it sent again from Settings, "
    "E-mail address."
)


def has_verified_email(user):
    """Whether `user` has confirmed an e-mail address (allauth's EmailAddress, verified).
    Two-factor needs every address confirmed; without any, it is the sign-up's."""
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, verified=True).exists()


class MFAAdapter(DefaultMFAAdapter):
    """allauth.mfa with the messages above for what it refuses, and the QR
    code as an <svg> element the page can hold."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "add_email_blocked": EMAIL_CHANGE_WITH_TWO_FACTOR,
        "unverified_email": TWO_FACTOR_WITH_AN_UNCONFIRMED_ADDRESS,
    }

    def validation_error(self, code, *args):
        """allauth's refusal `code` as a ValidationError. For "unverified_email", the
        message for what is unconfirmed: a change of address, or the account's only one."""
        if code == "unverified_email":
            request = allauth_context.request
            if request is not None and not has_verified_email(request.user):
                return ValidationError(TWO_FACTOR_BEFORE_THE_ADDRESS_IS_CONFIRMED, code=code)
        return super().validation_error(code, *args)

    def build_totp_svg(self, url):
        """The authenticator app's QR code for `url` (an otpauth:// URI) as an <svg>
        element (str), for the two-factor page to inline. allauth's is an SVG file, whose
        <?xml ...?> declaration HTML does not have (a parser turns it into a comment)."""
        svg = super().build_totp_svg(url)
        return svg[svg.index("<svg") :]


def _drop_changes_to(confirmed):
    """Delete other accounts' unverified rows for the address of `confirmed` (an
    EmailAddress just verified) that are changes: rows of accounts that have another
    address. An account's only address (its sign-up one) stays, for its owner to see
    and replace; its link answers 409."""
    pending = EmailAddress.objects.filter(email__iexact=confirmed.email, verified=False)
    for address in pending.exclude(user_id=confirmed.user_id):
        if EmailAddress.objects.filter(user_id=address.user_id).exclude(pk=address.pk).exists():
            address.delete()
