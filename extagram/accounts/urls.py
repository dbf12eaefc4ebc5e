"""Account URLs: allauth's, with ours first where we change a view or keep an old name.

The names `login`, `signup`, `logout` and `password_change` (and `/accounts/password/`)
are kept for templates and clients written before allauth.
"""

from allauth.account import views as allauth_views
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/", views.login, name="account_login"),
    path("signup/", views.signup, name="signup"),
    path("signup/", views.signup, name="account_signup"),
    path("logout/", allauth_views.logout, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("password/change/", views.password_change, name="account_change_password"),
    path("settings/", views.account_settings, name="account_settings"),
    path("username/", views.change_username, name="account_username"),
    path("delete/", views.delete_account, name="account_delete"),
    path("export/", views.export_data, name="account_export"),
    # allauth's patterns, with a 404 for a link that no longer works
    re_path(
        r"^confirm-email/(?P<key>[-:\w]+)/$", views.confirm_email, name="account_confirm_email"
    ),
    re_path(
        r"^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    # says so when a confirmation mail asked for again is held back
    path("email/", views.email, name="account_email"),
    # one authenticator app however often its form is sent
    path("2fa/totp/activate/", views.activate_totp, name="mfa_activate_totp"),
    # the codes tried at log-in limited per account
    path("2fa/authenticate/", views.two_factor_authenticate, name="mfa_authenticate"),
    path("", include("allauth.urls")),
]
