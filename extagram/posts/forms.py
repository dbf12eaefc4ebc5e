from django import forms
from django.utils.translation import gettext_lazy as _

from extagram.core.forms import BrowserTextField

from .models import Comment, Post


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["body"]
        field_classes = {"body": BrowserTextField}
        labels = {"body": _("Add a comment")}
        widgets = {"body": forms.Textarea(attrs={"rows": 2})}


class PostEditForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = ["caption", "alt_text"]
        field_classes = {"caption": BrowserTextField, "alt_text": BrowserTextField}
        labels = {
            "caption": _("Caption"),
            "alt_text": _("Description for people who cannot see the photo (alt text)"),
        }
        widgets = {"caption": forms.Textarea(attrs={"rows": 4})}
