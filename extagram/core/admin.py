"""The admin site: Django's, with Extagram's name and the selection of a bulk action checked
first."""

import functools

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy


class ExtagramAdminSite(admin.AdminSite):
    """Django's AdminSite whose model views refuse a malformed bulk-action selection, and
    whose log-in is the site's.

    Django's changelist reads the ticked rows (`_selected_action`) straight into
    `queryset.filter(pk__in=...)`, so a value that is not a primary key ("abc", "1e309",
    an empty string) raised ValueError there: a 500 (found by a scanner trial, on every
    model's list). Each value is now parsed with the model's primary-key field first;
    one that does not parse is a 400 and nothing runs.

    The admin's own log-in form took a staff member's password alone: no two-factor code
    and none of the log-in rate limits (a helper's trial). `/admin/login/` now sends a
    visitor to the site's log-in (allauth's, with `next` back to the admin), and answers
    403 to a signed-in member who is not staff (allauth's `secure_admin_login`, as its
    documentation advises for the admin).
    """

    site_header = gettext_lazy("Extagram administration")
    site_title = gettext_lazy("Extagram admin")

    def login(self, request, extra_context=None):
        # imported here: this module is loaded while the apps are (AdminConfig.default_site)
        from allauth.account.decorators import secure_admin_login

        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        model_admin = getattr(view, "__self__", None)
        if isinstance(model_admin, admin.ModelAdmin):
            view = _refusing_bad_selections(view, model_admin.model)
        return super().admin_view(view, cacheable)


def _refusing_bad_selections(view, model):
    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if request.method == "POST":
            try:
                for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                    model._meta.pk.to_python(value)
            except ValidationError as error:
                from extagram.core.views import bad_request

                return bad_request(request, error)
        return view(request, *args, **kwargs)

    return checked


class ExtagramAdminConfig(AdminConfig):
    """django.contrib.admin with ExtagramAdminSite as `admin.site`."""

    default_site = "extagram.core.admin.ExtagramAdminSite"
