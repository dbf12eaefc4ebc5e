"""The admin site: Django's, with Extagram's name and the selection of a bulk action checked
first."""

import functools

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy


class ExtagramAdminSite(admin.AdminSite):
    """Django's AdminSite whose model views refuse a malformed bulk-action selection.

    Django's changelist reads the ticked rows (`_selected_action`) straight into
    `queryset.filter(pk__in=...)`, so a value that is not a primary key ("abc", "1e309",
    an empty string) raised ValueError there: a 500 (found by a scanner trial, on every
    model's list). Each value is now parsed with the model's primary-key field first;
    one that does not parse is a 400 and nothing runs.
    """

    site_header = gettext_lazy("Extagram administration")
    site_title = gettext_lazy("Extagram admin")

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
