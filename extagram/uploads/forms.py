from django import forms
from django.utils.translation import gettext_lazy as _

from extagram.core.forms import BrowserTextField, submission_digest, submission_token
from extagram.posts.models import ALT_TEXT_MAX, CAPTION_MAX

from .formats import ACCEPTED_MIME_TYPES


class UploadForm(forms.Form):
    """A new post: the photo, its caption and alt text, and this form's submission token.

    `token` is a random value put in the form when it is rendered. A repeat of the same
    submission (double click, browser retry) carries the same token and the same
    content, so it gets the same `submission_key` (core.forms.submission_digest) and
    finds the first post instead of making another (see PostQuerySet.create_with_photo).
    A page restored from the browser's history keeps its token, but a different photo or
    text there makes a different key, hence a new post. Without a token (a form rendered
    before tokens existed, a script) every submission makes a post.
    """

    photo = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG, GIF, WebP, HEIC or AVIF."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_MIME_TYPES}),
    )
    caption = BrowserTextField(
        label=_("Caption"),
        max_length=CAPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    alt_text = BrowserTextField(
        label=_("Description for people who cannot see the photo (alt text)"),
        max_length=ALT_TEXT_MAX,
        required=False,
    )
    token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", submission_token())

    def submission_key(self):
        """SHA-256 (hex) of token, caption, alt text and the photo's bytes; None without a token.

        Call after is_valid(). Reads the uploaded file once and rewinds it.
        """
        data = self.cleaned_data
        photo = data["photo"]
        photo.seek(0)
        try:
            return submission_digest(
                data["token"], (data["caption"], data["alt_text"]), photo.chunks()
            )
        finally:
            photo.seek(0)


class AvatarForm(forms.Form):
    """A new profile picture: one image, cropped to its centred square when processed."""

    picture = forms.FileField(
        label=_("Profile picture"),
        help_text=_("JPEG, PNG, GIF, WebP, HEIC or AVIF. The centre square is kept."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_MIME_TYPES}),
    )
