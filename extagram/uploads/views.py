import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from extagram.posts.models import Post

from .forms import UploadForm
from .images import UnacceptableImage, process_photo

log = logging.getLogger(__name__)


@login_required
@ratelimit(key="user", rate=settings.UPLOAD_RATE, method="POST", block=True)
def upload(request):
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


def _too_large_message():
    return _("This upload is too large: the limit is %(mb)s MB.") % {"mb": settings.UPLOAD_MAX_MB}
