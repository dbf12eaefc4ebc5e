from django.conf import settings
from django.shortcuts import render


class UploadSizeLimitMiddleware:
    """Refuse an upload whose declared size is over the limit, before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path.startswith("/upload/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.UPLOAD_MAX_BYTES:
                return render(request, "413.html", status=413)
        return self.get_response(request)
