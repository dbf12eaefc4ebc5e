import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from extagram.accounts.models import AVATAR_WIDTHS, Profile
from extagram.core.views import form_action
from extagram.posts.models import Post

from .forms import AvatarForm, UploadForm

# The pipeline (.images: libvips, Pillow) is imported by the views that run it, not here:
# the app role imports this module with the URLconf but never processes a photo, and
# would carry those libraries in every worker (docs/performance.md, "Memory of the app
# tier"). The upload role loads it at start-up (UploadsConfig.ready).

log = logging.getLogger(__name__)


@login_required
@ratelimit(key="user", rate=settings.UPLOAD_RATE, method="POST", block=True)
def upload(request):
    from .images import UnacceptableImage, process_photo

    if request.method != "POST":
        return render(request, "uploads/upload.html", {"form": UploadForm()})

    form = UploadForm(request.POST, request.FILES)
    if getattr(request, "upload_too_large", False):
        form.add_error(None, _too_large_message())
        return render(request, "uploads/upload.html", {"form": form}, status=413)
    # Text fields and the photo's presence are checked here, before the costly
    # processing: a refusal for the caption costs the user nothing to fix.
    if not form.is_valid():
        return render(request, "uploads/upload.html", {"form": form}, status=400)

    submission = form.submission_key()
    if submission is not None:
        repeat = Post.objects.filter(author=request.user, submission=submission).first()
        if repeat is not None:
            log.info("post %s: repeated submission by user %s", repeat.pk, request.user.pk)
            return redirect(repeat)

    try:
        photo = process_photo(
            form.cleaned_data["photo"],
            max_pixels=settings.UPLOAD_MAX_PIXELS,
            widths=settings.PHOTO_WIDTHS,
        )
    except UnacceptableImage as refusal:
        form.add_error("photo", str(refusal))
        return render(request, "uploads/upload.html", {"form": form}, status=400)

    post = Post.objects.create_with_photo(
        author=request.user,
        photo=photo,
        caption=form.cleaned_data["caption"],
        alt_text=form.cleaned_data["alt_text"],
        submission=submission,
    )
    log.info("post %s created by user %s", post.pk, request.user.pk)
    return redirect(post)


def _edit_profile_page(request, avatar_form, status):
    from extagram.social.forms import ProfileForm

    profile = _own_profile(request.user)
    context = {"form": ProfileForm(instance=profile), "avatar_form": avatar_form}
    return render(request, "social/edit_profile.html", context, status=status)


def _own_profile(user):
    profile, _created = Profile.objects.get_or_create(user=user, defaults={"handle": user.username})
    return profile


@login_required
@form_action("edit_profile")
@ratelimit(key="user", rate=settings.UPLOAD_RATE, method="POST", block=True)
def avatar(request):
    """Set the signed-in member's profile picture (POST, multipart, field `picture`).

    The image goes through process_photo with the photos' bounds, cropped to its
    centred square at AVATAR_WIDTHS; a refusal re-renders the edit-profile page with
    the message (400, or 413 over the size limit) and stores nothing.
    """
    from .images import UnacceptableImage, process_photo

    form = AvatarForm(request.POST, request.FILES)
    if getattr(request, "upload_too_large", False):
        form.add_error(None, _too_large_message())
        return _edit_profile_page(request, form, 413)
    if not form.is_valid():
        return _edit_profile_page(request, form, 400)
    try:
        photo = process_photo(
            form.cleaned_data["picture"],
            max_pixels=settings.UPLOAD_MAX_PIXELS,
            widths=AVATAR_WIDTHS,
            square=True,
        )
    except UnacceptableImage as refusal:
        form.add_error("picture", str(refusal))
        return _edit_profile_page(request, form, 400)
    _own_profile(request.user).set_avatar(photo)
    log.info("user %s changed their profile picture", request.user.pk)
    messages.success(request, _("Your profile picture has been saved."))
    return redirect("profile", username=request.user.username)


@login_required
@form_action("edit_profile")
def remove_avatar(request):
    """Remove the signed-in member's profile picture (POST); its files are released."""
    _own_profile(request.user).remove_avatar()
    messages.success(request, _("Your profile picture has been removed."))
    return redirect("profile", username=request.user.username)


def _too_large_message():
    return _("This upload is too large: the limit is %(mb)s MB.") % {"mb": settings.UPLOAD_MAX_MB}
