"""Staff tools for accounts: find a member by handle, e-mail or display name, deactivate,
and see which names the site refused or changed, and why."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .erasure import end_sessions
from .models import HandleChange, Profile
from .usernames import canonical, validate_handle

User = get_user_model()


class HandleRulesMixin:
    """The username field follows the handle rules; each broken rule is shown by name.

    An unchanged username is left alone (a word reserved later does not lock the form).
    """

    def clean_username(self):
        name = canonical(self.cleaned_data["username"])
        if name != self.instance.username:
            validate_handle(name)
        if User.objects.filter(username=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("A member already has this username."), code="unique")
        return name


class AccountCreationForm(HandleRulesMixin, AdminUserCreationForm):
    pass


class AccountChangeForm(HandleRulesMixin, UserChangeForm):
    pass


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["handle", "display_name"]
    readonly_fields = ["handle"]


class HandleChangeInline(admin.TabularInline):
    model = HandleChange
    extra = 0
    can_delete = False
    fields = ["old_username", "new_handle", "reasons", "changed_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=_("Deactivate the selected accounts (and log them out)"))
def deactivate(modeladmin, request, queryset):
    if queryset.filter(pk=request.user.pk).exists():
        modeladmin.message_user(
            request,
            _("Your own account was left active: you cannot deactivate it here."),
            messages.WARNING,
        )
    users = list(queryset.exclude(pk=request.user.pk).filter(is_active=True))
    for user in users:
        with transaction.atomic():  # the account with its posts' flags and the counts
            user.is_active = False
            user.save(update_fields=["is_active"])
        end_sessions(user.pk)
    modeladmin.message_user(
        request,
        ngettext("%d account deactivated.", "%d accounts deactivated.", len(users)) % len(users),
        messages.SUCCESS,
    )


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    inlines = [ProfileInline, HandleChangeInline]
    list_display = ["username", "display_name", "email", "is_active", "is_staff", "date_joined"]
    list_select_related = ["profile"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "email", "emailaddress__email", "profile__display_name"]
    actions = [deactivate]

    def get_inlines(self, request, obj):
        # A new member's profile is written by the user's post_save signal.
        return self.inlines if obj is not None else []

    @admin.display(description=_("display name"), ordering="profile__display_name")
    def display_name(self, user):
        profile = getattr(user, "profile", None)
        return profile.display_name if profile else ""

    def get_search_results(self, request, queryset, search_term):
        # "Alice" or "ＡＬＩＣＥ" finds alice: handles are stored canonical.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        handle = canonical(search_term.strip().lstrip("@"))
        if handle:
            results |= queryset.filter(username=handle)
        return results, True


@admin.register(HandleChange)
class HandleChangeAdmin(admin.ModelAdmin):
    list_display = ["old_username", "new_handle", "reasons", "changed_at"]
    search_fields = ["old_username", "new_handle", "user__username"]
    readonly_fields = ["user", "old_username", "new_handle", "reasons", "changed_at"]

    def has_add_permission(self, request):
        return False
