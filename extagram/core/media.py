import mimetypes

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404
from django.views.decorators.cache import cache_control
from django.views.static import serve


@cache_control(public=True, max_age=31536000, immutable=True)
def serve_media(request, path):
    """Photos in the embedded mode; in the container stack nginx serves them.

    From MEDIA_ROOT with Django's static view, or streamed from the storage (an S3
    bucket, extagram.core.storage) when that is not the local filesystem. 404 for a
    name the storage does not hold.
    """
    if isinstance(default_storage, FileSystemStorage):
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    if ".." in path.split("/") or not default_storage.exists(path):
        raise Http404(path)
    content_type, _ = mimetypes.guess_type(path)
    return FileResponse(
        default_storage.open(path, "rb"), content_type=content_type or "application/octet-stream"
    )
