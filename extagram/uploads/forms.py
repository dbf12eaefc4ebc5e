from django import forms
from django.utils.translation import gettext_lazy as _

from extagram.posts.models import ALT_TEXT_MAX, CAPTION_MAX


class UploadForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG, GIF or WebP."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
        ),
    )
    caption = forms.CharField(
        label=_("Caption"),
        max_length=CAPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    alt_text = forms.CharField(
        label=_("Description for people who cannot see the photo (alt text)"),
        max_length=ALT_TEXT_MAX,
        required=False,
    )
