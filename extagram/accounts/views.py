from allauth.account import views as allauth_views
from allauth.account.internal.flows.email_verification import (
    consume_email_verification_rate_limit,
)
from allauth.account.models import EmailAddress
from allauth.mfa.base import views as mfa_views
from allauth.mfa.models import Authenticator
from allauth.mfa.totp import views as totp_views
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from extagram.core.views import ShownBadRequest

from . import erasure, export
from .adapter import has_verified_email
from .auth_backends import accounts_named_by_login
from .forms import (
    ActivateTOTPForm,
    DeleteAccountForm,
    DisplayNameForm,
    HandleForm,
    tune_signup_form,
)
from .models import HandleChange, Profile, lock_member
from .signup_form import SignupConflict
from .usernames import canonical


def login_account(group, request):
    """django-ratelimit's key for a log-in: the account its username or e-mail field names
    (`login`, or `username` as scripts written for Django's form send it), however it is
    spelled, so every spelling of one account counts against one limit; for a name of no
    account, its canonical spelling. (The keys "post:login" and "post:username" were the
    raw text, "" for the field a form did not send: one limit for every visitor.)"""
    typed = request.POST.get("login") or request.POST.get("username") or ""
    found = accounts_named_by_login(typed)
    if found:
        return "member:" + ",".join(map(str, found))
    typed = typed.strip()
    return "name:" + (typed.lower() if "@" in typed else canonical(typed))


login_limits = [
    ratelimit(key="ip", rate=settings.LOGIN_RATE, method="POST", block=True),
    ratelimit(key=login_account, rate=settings.LOGIN_RATE, method="POST", block=True),
]


@method_decorator(login_limits, name="dispatch")
class LoginView(allauth_views.LoginView):
    pass


@method_decorator(
    ratelimit(key="ip", rate=settings.LOGIN_RATE, method="POST", block=True), name="dispatch"
)
class TwoFactorAuthenticateView(mfa_views.AuthenticateView):
    """allauth's second step of a log-in (a code from the authenticator app, or a recovery
    code), with the codes tried for one account limited to CONFIRM_RATE however many
    log-ins they come through, and to LOGIN_RATE per client address. allauth counts
    them under its "login_failed" limit, which is off here (log-ins have the limits
    above, which let people in while Redis is down), so a password's holder could try
    codes without end: ~67 a second were seen."""

    def post(self, request, *args, **kwargs):
        member = str(self.stage.login.user.pk)
        if is_ratelimited(
            request,
            group="accounts.two_factor_code",
            key=lambda group, request: member,
            rate=settings.CONFIRM_RATE,
            method="POST",
            increment=True,
        ):
            raise Ratelimited()
        return super().post(request, *args, **kwargs)


@method_decorator(
    ratelimit(key="ip", rate=settings.SIGNUP_RATE, method="POST", block=True), name="dispatch"
)
class SignupView(allauth_views.SignupView):
    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        tune_signup_form(form)
        return form

    def form_valid(self, form):
        try:
            response = super().form_valid(form)
        except SignupConflict:
            # another sign-up took the username or the address after this form's checks:
            # checked again, the form now says which (a 400)
            form = self._cached_form = self.get_form_class()(**self.get_form_kwargs())
            tune_signup_form(form)
            if form.is_valid():
                raise
            return self.form_invalid(form)
        if self.request.user.is_authenticated:
            name = self.request.user.username
            messages.success(self.request, _("Welcome to Extagram, %(name)s!") % {"name": name})
        return response


class ConfirmEmailView(allauth_views.ConfirmEmailView):
    """allauth's e-mail confirmation link, answering 404 when the link is unknown or has
    expired, and 409 when another account has confirmed the address since (allauth
    answered 200 with the page that says so): bad input is a 4xx. A post of such a link
    is redirected by allauth, with its message."""

    def get(self, *args, **kwargs):
        response = super().get(*args, **kwargs)
        if response.status_code == 200:
            if self.object is None:
                response.status_code = 404
            elif not self.object.email_address.can_set_verified():
                response.status_code = 409
        return response


class EmailView(allauth_views.EmailView):
    """allauth's e-mail page, saying so when a confirmation mail is not sent: allauth
    mails an address once every 3 minutes (ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN) and
    skipped one inside that without a word, for "Re-send Verification" and for a change to
    an address mailed a moment before (by another account's change, say), so the member
    waited for a mail that was never sent."""

    def post(self, request, *args, **kwargs):
        email = request.POST.get("email", "")
        _refuse_an_action_on_no_address(request, email)
        changing = "action_add" in request.POST
        # allauth's own count, read without using it up
        cooling = changing and not consume_email_verification_rate_limit(
            request, email, dry_run=True
        )
        response = super().post(request, *args, **kwargs)
        mine = EmailAddress.objects.filter(user=request.user, email__iexact=email, verified=False)
        resent_nothing = "action_send" in request.POST and not getattr(
            self, "_did_send_verification_email", True
        )
        if resent_nothing and mine.exists():
            messages.info(
                request,
                _(
                    "A confirmation mail went to %(email)s less than 3 minutes ago. Look "
                    "for it (in the spam folder too), or ask again in a few minutes."
                )
                % {"email": email},
            )
        elif cooling and response.status_code == 302 and mine.exists():
            messages.info(
                request,
                _(
                    "No confirmation mail went to %(email)s: one was sent there less than "
                    "3 minutes ago, and an address gets at most one every 3 minutes. Use "
                    "“Re-send verification” in a few minutes."
                )
                % {"email": email},
            )
        return response


ADDRESS_ACTIONS = ("action_send", "action_remove", "action_primary")


def _refuse_an_action_on_no_address(request, email):
    """Raises ShownBadRequest (a 400 that says why) for a post to the e-mail page that
    allauth would answer with a redirect and no word: no action, or one of ADDRESS_ACTIONS
    for an address that is not one of the member's (or none), or a re-send for an address
    already confirmed, by the member or by another account since. The page's own buttons
    send none but the last."""
    if "action_add" in request.POST:
        return
    action = next((name for name in ADDRESS_ACTIONS if name in request.POST), None)
    if action is None:
        raise ShownBadRequest(_("Choose what to do with the address."))
    address = EmailAddress.objects.filter(user=request.user, email__iexact=email).first()
    if address is None:
        raise ShownBadRequest(_("That is not one of your e-mail addresses."))
    if action == "action_send" and address.verified:
        raise ShownBadRequest(_("That address is confirmed already."))
    held = EmailAddress.objects.filter(email__iexact=address.email, verified=True)
    if action == "action_send" and held.exclude(user=request.user).exists():
        # its mail would go to the account holding it, with a link that cannot work
        raise ShownBadRequest(
            _("Another account has confirmed that address since: change to another one.")
        )


class PasswordResetFromKeyView(allauth_views.PasswordResetFromKeyView):
    """allauth's password-reset link, answering 404 when the link is used, expired or
    broken (allauth answered 200 with the page that says so)."""

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if context.get("token_fail"):
            response.status_code = 404
        return response


class ActivateTOTPView(totp_views.ActivateTOTPView):
    """allauth's page that turns on the authenticator app, one app per member however
    often the form is sent at once. A double click made two on MariaDB, which keeps none
    of allauth's conditional unique constraints (models.W036), and the member then could
    not turn two-factor off (allauth's page finds two: a 500). The member's row
    is locked first, as allauth does for new recovery codes; a repeat, sent at once or a
    moment later, then finds the app on and goes where the first went (the recovery
    codes). allauth's own check sent a later one to the page that turns the app off."""

    def get_form_class(self):
        return ActivateTOTPForm

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST" or not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        # before allauth's own check, which sends a member with the app on to the page
        # that turns it off: a repeat that came in while the first was at work met that
        with transaction.atomic():
            lock_member(request.user.pk)
            if _totp_on(request.user):
                return redirect("mfa_view_recovery_codes")
            return super().dispatch(request, *args, **kwargs)


def _totp_on(user):
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


login = LoginView.as_view()
signup = SignupView.as_view()
activate_totp = ActivateTOTPView.as_view()
two_factor_authenticate = TwoFactorAuthenticateView.as_view()
confirm_email = ConfirmEmailView.as_view()
password_reset_from_key = PasswordResetFromKeyView.as_view()
email = login_required(EmailView.as_view())
password_change = login_required(allauth_views.PasswordChangeView.as_view())


@login_required
def account_settings(request):
    """Display name, and links to e-mail, password, two-factor, export and deletion."""
    profile, _created = Profile.objects.get_or_create(
        user=request.user, defaults={"handle": request.user.username}
    )
    form = DisplayNameForm(request.POST or None, instance=profile)
    context = {"form": form, "email_verified": has_verified_email(request.user)}
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your display name has been saved."))
            return redirect("account_settings")
        return render(request, "accounts/settings.html", context, status=400)
    return render(request, "accounts/settings.html", context)


@login_required
@ratelimit(key="user", rate=settings.CONFIRM_RATE, method="POST", block=True)
def delete_account(request):
    """Settings → Delete my account: confirmed with the password (and 2FA code), tried at
    most CONFIRM_RATE times per member."""
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "accounts/delete.html", {"form": form}, status=400)
        user, name = request.user, request.user.username
        logout(request)
        erasure.close_account(user)
        messages.success(
            request,
            _(
                "The account %(name)s has been deleted: nothing of it is shown any more, "
                "and its photos and everything else in it are being erased."
            )
            % {"name": name},
        )
        return redirect("feed")
    return render(request, "accounts/delete.html", {"form": form})


@login_required
@ratelimit(key="user", rate=settings.EXPORT_RATE, method="POST", block=True)
def export_data(request):
    """Settings → Download my data: a page with a button; the POST streams the zip."""
    if request.method == "POST":
        response = StreamingHttpResponse(
            export.zip_chunks(request.user, request.LANGUAGE_CODE), content_type="application/zip"
        )
        stamp = timezone.now().strftime("%Y-%m-%d")
        filename = f"extagram-{request.user.username}-{stamp}.zip"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
    return render(request, "accounts/export.html")


@login_required
def change_username(request):
    """Settings → change the handle (the old one is free again at once; staff see the change)."""
    if request.method != "POST":
        return render(request, "accounts/username.html", {"form": HandleForm(request.user)})
    with transaction.atomic():
        # one change at a time, checked against the name as it is now: the same form sent
        # twice at once recorded the change twice, or said the new name was taken
        lock_member(request.user.pk)
        request.user.refresh_from_db(fields=["username"])
        form = HandleForm(request.user, request.POST)
        if form.is_valid():
            user, old = request.user, request.user.username
            try:
                with transaction.atomic():
                    user.username = form.cleaned_data["username"]
                    user.save(update_fields=["username"])
                    HandleChange.objects.create(
                        user=user,
                        old_username=old,
                        new_handle=user.username,
                        reasons="Changed by the member in their settings.",
                    )
            except IntegrityError:  # taken a moment ago by someone else
                user.username = old
                form.add_error("username", _("A member already has this username."))
            else:
                messages.success(
                    request, _("Your username is now %(name)s.") % {"name": user.username}
                )
                return redirect("account_settings")
    return render(request, "accounts/username.html", {"form": form}, status=400)
