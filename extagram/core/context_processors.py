from django.conf import settings


def site(request):
    return {
        "upload_max_mb": settings.UPLOAD_MAX_MB,
        "extagram_version": settings.VERSION,
    }
