import contextvars
import ipaddress
import logging
import re
import socket
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.forms import BaseForm
from django.utils.cache import patch_cache_control

_request_id = contextvars.ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
)
SERVED_BY = socket.gethostname()


def current_request_id():
    """The id of the request this thread is answering (RequestIdMiddleware), "-" between
    requests."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id()
        return True


class ClientErrorTracebackFilter(logging.Filter):
    """For django.request: a 4xx answer (a bad cursor, a self-follow) is logged as its one
    warning line without the traceback Django attaches for the exception behind it (the
    client's mistake, not ours); 5xx records keep theirs."""

    def filter(self, record):
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class SuspiciousRequestFilter(logging.Filter):
    """For a handler: Django logs each SuspiciousOperation it answers with a 400 (a
    disallowed Host, a form over DATA_UPLOAD_MAX_MEMORY_SIZE or
    DATA_UPLOAD_MAX_NUMBER_FIELDS) on django.security.<its class name>, at ERROR with a
    traceback through its own request parsing. The client's request, not a fault of
    ours: one WARNING line instead. (On a handler, as a logger's filter would not see
    the records of the loggers below it.)"""

    def filter(self, record):
        if not record.name.startswith("django.security."):
            return True
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = None
        record.exc_text = None
        return True


class TrustedProxyMiddleware:
    """Honour X-Forwarded-* only when the request comes from a trusted proxy.

    From anyone else those headers are dropped, so a client cannot fake its
    address (rate limits) or its scheme (secure cookies, CSRF).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = [
            ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES
        ]

    def is_trusted(self, address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, request):
        meta = request.META
        if self.is_trusted(meta.get("REMOTE_ADDR", "")):
            client = (
                meta.get("HTTP_X_REAL_IP") or meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1]
            )
            client = client.strip()
            if client:
                meta["REMOTE_ADDR"] = client
        else:
            for header in _FORWARDED_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)


@receiver(request_finished)
def _forget_request_id(sender, **kwargs):
    _request_id.set("-")


class RequestIdMiddleware:
    """Carry the proxy's request id into logs and back to the client.

    Also names the replica and version that answered, so operators and tests
    can see load balancing and deploys.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # kept until the response is closed (request_finished), not just to the end of
        # the middleware: Django logs a 4xx or 5xx ("Not Found: /x") after it
        _request_id.set(request.id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        response["X-Served-By"] = SERVED_BY
        response["X-Extagram-Version"] = settings.VERSION
        return response


class PrivateForSignedInMiddleware:
    """Every response to a signed-in visitor gets `Cache-Control: private`.

    Such pages carry the visitor's name, forms and CSRF token: no shared cache (a
    front proxy, a CDN, a company proxy) may keep them. Requests without a session
    cookie are never signed in, so they do not touch the session store here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and hasattr(request, "user")
            and request.user.is_authenticated
        ):
            patch_cache_control(response, private=True)
        return response


def _is_bad_input_for_the_database(exception):
    from django.db import OperationalError

    if isinstance(exception, OverflowError):
        return True
    return isinstance(exception, OperationalError) and "pattern too complex" in str(exception)


class OutOfRangeNumberMiddleware:
    """A number too large for the database is bad input: a 400 page, not a 500.

    SQLite raises OverflowError ("Python int too large to convert to SQLite INTEGER")
    when a query is given an integer beyond 64 bits, e.g. an id typed into a form whose
    choices come from a table (found by the no-5xx property test: the admin's group form
    with permissions=99999999999999999999). Django's own lookups guard their integer
    fields; this catches every other path to the same error, in any view.

    The same holds for a search term too long for the database: SQLite refuses a LIKE
    pattern over 50,000 bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH, "LIKE or GLOB pattern too
    complex"), e.g. a 100,000-character `q` in an admin search (also found by that test).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not _is_bad_input_for_the_database(exception):
            return None
        from extagram.core.views import bad_request

        logging.getLogger("django.security").warning(
            "input too large for the database in %s %s: %s", request.method, request.path, exception
        )
        return bad_request(request, exception)


class VanishedAccountMiddleware:
    """A write by a member whose account was deleted during the request: a 403, not a 500.

    Deleting an account ends its sessions, but a request already past authentication
    (an upload being processed, a like on its way) can still try to insert a row that
    points at the deleted user; the database refuses it with an IntegrityError (a
    foreign key with no row). Nothing was stored for that request; the visitor is
    logged out and shown the 403 page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib.auth import get_user_model, logout
        from django.db import IntegrityError

        user = getattr(request, "user", None)
        if not (isinstance(exception, IntegrityError) and user and user.is_authenticated):
            return None
        if get_user_model().objects.filter(pk=user.pk).exists():
            return None
        from extagram.core.views import permission_denied

        logging.getLogger("django.security").warning(
            "write by deleted account %s refused in %s %s", user.pk, request.method, request.path
        )
        logout(request)
        return permission_denied(request, exception)


class FormErrorsAre400Middleware:
    """A form posted back with errors is answered 400, not 200: bad input gets a clear
    4xx. Django's and allauth's class-based views (log-in, e-mail, password reset,
    re-authentication, two-factor codes, the admin's forms) re-render such a form with 200;
    this reads the TemplateResponse's context before it is rendered and changes the status
    when a bound form in it (or the admin's wrapper of one) has errors. Views that render
    their own 400 (render(..., status=400)) are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        context = response.context_data or {}
        if request.method == "POST" and response.status_code == 200 and _any_errors(context):
            response.status_code = 400
        return response


def _any_errors(context):
    """Whether a form in `context` (a template context dict) was validated with errors.
    Reads `_errors`, Django's cache of a validated form's errors, so a form no one
    validated is not validated here (allauth's log-in form authenticates in clean())."""
    for value in context.values():
        form = getattr(value, "form", value)  # admin.helpers.AdminForm wraps the form
        if isinstance(form, BaseForm) and form.is_bound and getattr(form, "_errors", None):
            return True
    return False
