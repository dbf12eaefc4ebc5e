from django.conf import settings
from django.shortcuts import render

# Up to this many bytes of a refused body are read and discarded, so that the
# client, still sending, gets to read the 413 page instead of a reset connection.
DRAIN_FACTOR = 4
CHUNK = 64 * 1024


class UploadSizeLimitMiddleware:
    """Refuse an upload whose declared size is over the limit, without keeping it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path.startswith("/upload/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.UPLOAD_MAX_BYTES:
                if length <= settings.UPLOAD_MAX_BYTES * DRAIN_FACTOR:
                    while request.read(CHUNK):
                        pass
                return render(request, "413.html", status=413)
        return self.get_response(request)
