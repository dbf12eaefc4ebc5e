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
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from extagram.core.statements import CompiledQuery

from .usernames import DISPLAY_NAME_MAX, handle_problems

BIO_MAX = 300  # Instagram's limit is 150; room for a second language
# Avatar sides in CSS pixels x2 for high-density screens: the profile shows 80 px
# (160 for 2x), cards and comments 32 px (64 for 2x).
AVATAR_WIDTHS = (160, 64)


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="profile"
    )
    # Canonical handle (usernames.canonical); unique across case on every backend.
    handle = models.CharField(_("handle"), max_length=150, unique=True)
    display_name = models.CharField(_("display name"), max_length=DISPLAY_NAME_MAX, blank=True)
    # A few words about the member, shown on their profile (links: extagram.social.text).
    bio = models.TextField(_("bio"), max_length=BIO_MAX, blank=True, db_default="")
    # The profile picture: square JPEGs stored like photos (content-hash names under
    # photos/, shared and locked through posts.StoredFile), "" when there is none.
    # The bio and these came after the table's first migration: each has a database
    # default (db_default) too, as posts.Post's later columns (why there).
    avatar_large = models.CharField(
        max_length=200, blank=True, default="", db_default="", editable=False
    )
    avatar_small = models.CharField(
        max_length=200, blank=True, default="", db_default="", editable=False
    )
    avatar_side = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    avatar_small_side = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("profile")
        indexes = [
            # "does anything still use this file?" on every deletion and sweep
            models.Index(fields=["avatar_large"], name="profile_avatar_large"),
            models.Index(fields=["avatar_small"], name="profile_avatar_small"),
        ]

    def __str__(self):
        return self.handle

    @property
    def avatar_names(self):
        return [name for name in (self.avatar_large, self.avatar_small) if name]

    @property
    def avatar_url(self):
        return default_storage.url(self.avatar_large) if self.avatar_large else ""

    @property
    def avatar_small_url(self):
        return default_storage.url(self.avatar_small) if self.avatar_small else ""

    def set_avatar(self, photo):
        """Store a processed square picture (a ProcessedPhoto) as this member's avatar.

        The files are written and the profile row updated under the files' StoredFile
        locks, in one transaction (the same rule as PostQuerySet.create_with_photo, see
        StoredFile); the previous avatar's files are released once that commits, each
        kept if a post or another avatar still uses it. Files of a failed attempt are
        released again.
        """
        from extagram.posts.models import StoredFile

        # the JPEGs only: a photo processed for a post may carry WebP variants too
        jpegs = [variant for variant in photo.variants if variant.format == "jpeg"]
        by_size = {variant.width_class: variant for variant in jpegs}
        names = [variant.storage_name for variant in jpegs]
        try:
            with transaction.atomic():
                profile = Profile.objects.select_for_update().get(pk=self.pk)
                old = profile.avatar_names
                StoredFile.objects.lock(names)
                for variant in jpegs:
                    StoredFile.objects.write_if_missing(variant.storage_name, variant.data)
                self.avatar_large = by_size["large"].storage_name
                self.avatar_small = by_size["small"].storage_name
                self.avatar_side = by_size["large"].width
                self.avatar_small_side = by_size["small"].width
                Profile.objects.filter(pk=self.pk).update(
                    avatar_large=self.avatar_large,
                    avatar_small=self.avatar_small,
                    avatar_side=self.avatar_side,
                    avatar_small_side=self.avatar_small_side,
                )
                stale = [name for name in old if name not in names]
                transaction.on_commit(lambda: StoredFile.objects.release(stale), robust=True)
        except BaseException:
            StoredFile.objects.release(names)
            raise

    def remove_avatar(self):
        """Clear the avatar; its files are released (StoredFile) once that commits."""
        from extagram.posts.models import StoredFile

        with transaction.atomic():
            profile = Profile.objects.select_for_update().get(pk=self.pk)
            old = profile.avatar_names
            Profile.objects.filter(pk=self.pk).update(
                avatar_large="", avatar_small="", avatar_side=0, avatar_small_side=0
            )
            self.avatar_large = self.avatar_small = ""
            self.avatar_side = self.avatar_small_side = 0
            transaction.on_commit(lambda: StoredFile.objects.release(old), robust=True)


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


class PendingErasure(models.Model):
    """An account its member deleted whose data is still being deleted: closed at once
    (erasure.close_account), its rows deleted after the answer (erasure.erase_pending).
    The row goes with the account, so one left means the deletion is unfinished."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"account {self.user_id}, deleted at {self.requested_at:%Y-%m-%d %H:%M}"


def lock_member(user_id):
    """Lock the member's row (auth_user, by primary key `user_id`) until the transaction
    ends: call it inside transaction.atomic(). Changes to what one member may hold only
    once (an authenticator app, the address in use) are then made one at a time, which
    MariaDB's schema cannot keep (allauth's conditional unique constraints: models.W036).
    Nothing to wait for on SQLite, whose writers queue anyway."""
    members = get_user_model().objects.select_for_update().filter(pk=user_id)
    list(members.values_list("pk", flat=True))


def shown_as(user):
    """(handle, display name, small picture's file name) of `user`, a User with its profile
    selected: how pages show a member, so what a kept fragment's key must name (post
    cards, comments, notifications). The last two are None for a member without a
    profile."""
    profile = getattr(user, "profile", None)
    if profile is None:
        return user.username, None, None
    return user.username, profile.display_name, profile.avatar_small


class NoSuchMember(Http404):
    """No active member has the (canonical) handle `handle`: the 404 page names it."""

    def __init__(self, handle):
        super().__init__(f"No active member has the handle {handle!r}.")
        self.handle = handle

    @property
    def not_found_context(self):
        """What the 404 page shows (core.views.page_not_found): the handle, when it is
        one a member could have."""
        return {} if handle_problems(self.handle) else {"missing_handle": self.handle}


def active_member(handle):
    """The active user whose handle is `handle` (canonical), with their profile joined.

    Raises NoSuchMember (an Http404) when nobody active has it: a handle never taken,
    changed since, or an account closed or deactivated.
    """
    # exactly: MariaDB's collation finds "alice" for "alice " (trailing spaces) and for
    # "alicé", which then showed alice's page at that address
    found = [user for user in _ACTIVE_MEMBER.instances(handle) if user.username == handle]
    if not found:
        raise NoSuchMember(handle)
    return found[0]


# One statement compiled once (extagram.core.statements): every profile page runs it.
_ACTIVE_MEMBER = CompiledQuery(
    lambda handle: (
        get_user_model().objects.select_related("profile").filter(username=handle, is_active=True)
    )
)
