from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from .usernames import canonical, validate_handle


class AccountAdapter(DefaultAccountAdapter):
    """allauth, with Extagram's handle rules (usernames.py) on every username it accepts."""

    def clean_username(self, username, shallow=False):
        """Returns the canonical handle; raises ValidationError naming each broken rule."""
        name = canonical(username)
        validate_handle(name)
        return super().clean_username(name, shallow=shallow)

    def save_user(self, request, user, form, commit=True):
        # The user row and its profile (written by a post_save signal) together or
        # not at all: a handle taken in a race fails on the profile's unique index.
        with transaction.atomic():
            return super().save_user(request, user, form, commit=commit)
