"""The signed-in member of a request: Django's AuthenticationMiddleware, but a session
that a previous secret key verifies keeps its id."""

from django.contrib import auth
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.utils.functional import SimpleLazyObject


def get_user(request):
    """django.contrib.auth.get_user(request), cached on the request as Django's middleware
    caches it, except that a session whose hash only a key of SECRET_KEY_FALLBACKS
    verifies is given the current key's hash under the same session id. Django also
    cycles the id then (`cycle_key()`, which deletes the old one), so the member's other
    requests already on their way with the old cookie found no session and signed the
    member out, each of them deleting the cookie: two tabs, or a page and its fetches,
    after a rotate-secret (an operator's trial). Keeping the id changes nothing else: the
    id is as secret as before, and the member's rights are the same."""
    if not hasattr(request, "_cached_user"):
        session = request.session
        session.cycle_key = lambda: None  # only get_user's fallback branch calls it
        try:
            request._cached_user = auth.get_user(request)
        finally:
            del session.cycle_key
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with request.user from get_user() above."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
