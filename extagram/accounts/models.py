"""The account beside Django's user: the unique canonical handle and the display name.

Why a one-to-one Profile rather than a custom user model: swapping AUTH_USER_MODEL
in a project that already has users and foreign keys to auth.User is a
hand-written, all-or-nothing migration; a profile table is an ordinary one.
Why a unique column rather than a functional index on auth_user.username:
MariaDB cannot index an expression (Django's `supports_expression_indexes` is
False there), and no database computes NFKC_Casefold; a column we fill with
`usernames.canonical()` is unique on every backend alike.

`User.username` is kept equal to `Profile.handle` (the user's pre_save signal
stores the canonical form, its post_save writes the profile in the same
transaction), so `/u/<username>/` and the handle are the same string.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .usernames import DISPLAY_NAME_MAX

BIO_MAX = 300  # Instagram's limit is 150; room for a second language


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="profile"
    )
    # Canonical handle (usernames.canonical); unique across case on every backend.
    handle = models.CharField(_("handle"), max_length=150, unique=True)
    display_name = models.CharField(_("display name"), max_length=DISPLAY_NAME_MAX, blank=True)
    # A few words about the member, shown on their profile (links: extagram.social.text).
    bio = models.TextField(_("bio"), max_length=BIO_MAX, blank=True)

    class Meta:
        verbose_name = _("profile")

    def __str__(self):
        return self.handle


class HandleChange(models.Model):
    """A handle the site changed or refused, and why (kept for staff, shown in the admin).

    Written by the migration that brought existing accounts under the rules
    (one row per renamed account, `reasons` listing the rules the old name broke).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="handle_changes"
    )
    old_username = models.CharField(max_length=150)
    new_handle = models.CharField(max_length=150)
    reasons = models.TextField(help_text=_("The rules the old name broke, one per line."))
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self):
        return f"{self.old_username} → {self.new_handle}"
