from functools import wraps

from django.conf import settings


def shared_cache_for_visitors(view):
    """Let a front proxy keep a signed-out page for a moment (microcaching).

    Only when the visitor is signed out and the response sets no cookie: such
    pages are the same for everyone who sends the same URL and language. The
    header is read by nginx (X-Accel-Expires) and stripped before the client.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        seconds = settings.PROXY_CACHE_SECONDS
        if (
            seconds
            and request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not request.user.is_authenticated
            and not response.cookies
        ):
            response["X-Accel-Expires"] = str(seconds)
        return response

    return wrapper
