from django import forms
from django.utils.translation import gettext_lazy as _

from extagram.accounts.models import Profile
from extagram.accounts.usernames import clean_display_name
from extagram.core.forms import BrowserTextField


class ProfileForm(forms.ModelForm):
    """The edit-profile page: display name and bio (links and mentions in the bio work)."""

    bio = BrowserTextField(
        label=_("Bio"),
        required=False,
        max_length=Profile._meta.get_field("bio").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few words about you. Links, #tags and @names become links."),
    )

    class Meta:
        model = Profile
        fields = ["display_name", "bio"]

    def clean_display_name(self):
        return clean_display_name(self.cleaned_data["display_name"])
