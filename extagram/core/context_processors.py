from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.functional import SimpleLazyObject


def site(request):
    return {
        "upload_max_mb": settings.UPLOAD_MAX_MB,
        "extagram_version": settings.VERSION,
        # replaces Django's built-in `csrf` processor's value: the same token, one per page
        "csrf_token": SimpleLazyObject(lambda: page_csrf_token(request)),
    }


def page_csrf_token(request):
    """This request's masked CSRF token (a str): Django's get_token() the first time, the
    same string after that, so a page's forms (its header, its like buttons) share one
    token instead of masking the secret again for each (each get_token() is a fresh mask of
    32 random characters: ~60 µs, docs/performance.md, "Signed-in pages"). Any mask of the
    secret is valid; a secret changed meanwhile (rotate_token() at log-in) gets a new token."""
    secret = request.META.get("CSRF_COOKIE")
    kept = getattr(request, "_page_csrf_token", None)
    if kept is None or kept[0] != secret:
        token = get_token(request)
        kept = request._page_csrf_token = (request.META["CSRF_COOKIE"], token)
    return kept[1]
