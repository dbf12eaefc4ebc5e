from allauth.account import forms as allauth_forms
from allauth.core import context as allauth_context
from allauth.mfa.totp import forms as totp_forms
from allauth.mfa.totp.internal import auth as totp_auth
from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import Profile
from .usernames import DISPLAY_NAME_MAX, HANDLE_MAX, canonical, clean_display_name

# format_lazy, not %: the sentence is translated when a page shows it, in that page's language.
HANDLE_HELP = format_lazy(
    _(
        "Up to {max} characters: letters a–z, digits, underscores (_) and dots (.). "
        "Capital letters become small ones."
    ),
    max=HANDLE_MAX,
)
DISPLAY_NAME_HELP = _(
    "Your name as you like it written, in any script. Shown beside your username."
)


class LoginForm(allauth_forms.LoginForm):
    """allauth's login form; also accepts the field name `username` for `login`,
    so scripts and clients written for Django's own login form keep working.

    A typed username is put in its canonical form first (`usernames.canonical`), so
    whatever spelling signed up (full-width "ＢＯＢ", "Bob") also logs in; an e-mail
    address is left as typed."""

    def __init__(self, *args, **kwargs):
        data = kwargs.get("data")
        if data is not None:
            data = data.copy()
            if "login" not in data and "username" in data:
                data["login"] = data["username"]
            typed = data.get("login", "")
            if "@" not in typed:
                data["login"] = canonical(typed)
            kwargs["data"] = data
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Username or e-mail")
        if "remember" in self.fields:  # ACCOUNT_SESSION_REMEMBER = None: the member chooses
            self.fields["remember"].initial = True
        # allauth marks the field "email" when both are accepted; "username" is the HTML
        # token for whatever names the account, and the one the sign-up form's handle
        # carries, so a password manager fills in what it saved at sign-up
        self.fields["login"].widget.attrs["autocomplete"] = "username"


class SignupExtraForm(forms.Form):
    """Fields allauth's sign-up form adds to its own (ACCOUNT_SIGNUP_FORM_CLASS)."""

    display_name = forms.CharField(
        label=_("Display name (optional)"),
        required=False,
        max_length=DISPLAY_NAME_MAX,
        help_text=DISPLAY_NAME_HELP,
    )

    def clean_display_name(self):
        return clean_display_name(self.cleaned_data["display_name"])

    def signup(self, request, user):
        """Called by allauth once the user exists."""
        # save(), not update(): the profile's post_save signals (search names) must run
        profile = Profile.objects.get(user=user)
        profile.display_name = self.cleaned_data["display_name"]
        profile.save(update_fields=["display_name"])


def _length_by_handle_rules(field):
    """Leave a username field's length to the handle rules (usernames.validate_handle:
    HANDLE_MAX, with the name's own count): the field's MaxLengthValidator of 150, the
    database column's, stopped the form first and named 150 as the limit."""
    field.max_length = None
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]


def tune_signup_form(form):
    """Our help text and length on allauth's username field (called by the view)."""
    field = form.fields.get("username")
    if field is not None:
        field.help_text = HANDLE_HELP
        _length_by_handle_rules(field)
        field.widget.attrs.update(
            maxlength=str(HANDLE_MAX), autocapitalize="none", spellcheck="false"
        )
    form.order_fields(["username", "display_name", "email", "password1", "password2"])


class DisplayNameForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name"]
        help_texts = {"display_name": DISPLAY_NAME_HELP}

    def clean_display_name(self):
        return clean_display_name(self.cleaned_data["display_name"])


class DeleteAccountForm(forms.Form):
    """Confirm with the password, and with a two-factor code when the account has one."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Two-factor code"),
        help_text=_("From your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, user, *args, **kwargs):
        from allauth.mfa.utils import is_mfa_enabled

        super().__init__(*args, **kwargs)
        self.user = user
        if not is_mfa_enabled(user):
            del self.fields["code"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password

    def clean_code(self):
        from allauth.mfa.base.forms import BaseAuthenticateForm

        check = BaseAuthenticateForm(user=self.user, data={"code": self.cleaned_data["code"]})
        if not check.is_valid():
            raise forms.ValidationError(check.errors["code"])
        return self.cleaned_data["code"]


class HandleForm(forms.Form):
    """A new username (handle), checked by the same rules as at sign-up."""

    username = forms.CharField(label=_("New username"), help_text=HANDLE_HELP)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        _length_by_handle_rules(self.fields["username"])
        self.fields["username"].widget.attrs.update(
            maxlength=str(HANDLE_MAX), autocapitalize="none", spellcheck="false"
        )

    def clean_username(self):
        from allauth.account.adapter import get_adapter

        from .usernames import canonical

        name = canonical(self.cleaned_data["username"])
        if name == self.user.username:
            raise forms.ValidationError(_("That is already your username."), code="same")
        return get_adapter().clean_username(name)


class ActivateTOTPForm(totp_forms.ActivateTOTPForm):
    """allauth's form that turns on the authenticator app, keeping the secret its page
    showed until the app is on: allauth made a new one each time the page was shown, so a
    reload or a second tab made the entry the member had just scanned useless ("Incorrect
    code") while the page quietly showed another QR code. allauth forgets the secret
    once the app is on (totp.internal.auth.clear_totp_secret)."""

    def __init__(self, *args, **kwargs):
        session = allauth_context.request.session
        shown = session.get(totp_auth.SECRET_SESSION_KEY)
        super().__init__(*args, **kwargs)
        if shown and not self.is_bound:
            self.secret = session[totp_auth.SECRET_SESSION_KEY] = shown
