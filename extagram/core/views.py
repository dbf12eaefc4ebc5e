import sys
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache


def form_action(page):
    """Decorate a view that acts only on POST (a form's action; under login_required).

    A GET is sent to `page` instead of getting a blank 405: the log-in page sends a member
    back to `next` with a GET, so a form posted signed out (a page left open after the
    session ended) comes back as one. `page` is a URL name, reversed with the view's
    arguments, or a callable (request, *args, **kwargs) -> URL. Other methods: 405.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "GET":
                if callable(page):
                    return redirect(page(request, *args, **kwargs))
                return redirect(reverse(page, args=args, kwargs=kwargs))
            if request.method != "POST":
                return HttpResponseNotAllowed(["GET", "POST"])
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok", "role": settings.ROLE, "version": settings.VERSION})


@cache_control(public=True, max_age=86400)
def favicon(request):
    """`/favicon.ico`, which browsers and other clients ask for by themselves (pages name
    the SVG logo): a 302 to the icon's static file (16, 32 and 48 px, the logo drawn
    with Pillow), whose content-hashed name the static tier serves as immutable."""
    return redirect(static("extagram/favicon.ico"))


@never_cache
def readyz(request):
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable"}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if ready else 503)


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _cache_ok():
    # django-redis swallows errors (the site keeps serving without Redis), so
    # a failed round trip shows up as a missing value rather than an exception.
    try:
        cache.set("readyz", "1", 10)
        return cache.get("readyz") == "1"
    except Exception:
        return False


def rate_limited(request, exception=None):
    """A refused request of a rate limit (django-ratelimit's RATELIMIT_VIEW, allauth's
    handler429): 429 "Slow down". Unless the cache is down: allauth's limits refuse every
    request then (they need the cache's lock), and the cause is an outage, not the
    visitor's pace, so the answer is 503 "Back in a moment" with Retry-After."""
    if not _cache_ok():
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
    return render(request, "429.html", status=429)


class ShownBadRequest(BadRequest):
    """A 400 whose message is translated text for the visitor, shown on the 400 page
    (e.g. "This page link is not valid."). Raise it from a view; Django's other
    BadRequest and SuspiciousOperation messages stay unshown (they may echo input)."""


def bad_request(request, exception=None):
    """The 400 page, with the reason when `exception` is a ShownBadRequest or a form
    over Django's limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS,
    DATA_UPLOAD_MAX_NUMBER_FILES: nothing of it was read)."""
    message = None
    if isinstance(exception, ShownBadRequest):
        message = str(exception)
    elif isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        message = _(
            "The form sent more than this site takes, so nothing was saved. Please shorten "
            "the text and try again."
        )
    return render(request, "400.html", {"message": message}, status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    """The 404 page, with what the exception has for it (`not_found_context`, a dict:
    accounts.models.NoSuchMember names the handle nobody goes by, social.text.NotATag
    says what a tag is)."""
    context = getattr(exception, "not_found_context", {})
    return render(request, "404.html", context, status=404)


def server_error(request):
    """A database outage is a 503 "try again soon", not a 500.

    Rendered without the request's context processors: they read the visitor's session
    and account, which are in the database, so in an outage they would raise again and
    turn the 503 into Django's bare 500.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError):
        return HttpResponse(render_to_string("503.html"), status=503)
    return HttpResponse(render_to_string("500.html"), status=500)
