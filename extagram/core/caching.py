import os
import secrets
from functools import wraps

from django.conf import settings
from django.core.cache import cache


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


# The embedded default's cache (LocMemCache) lives in the one `make run` process, so what
# another process writes (`make demo`, seed_posts, a shell; the README runs them beside
# the site) renewed no stamp the server sees (social.models.replace_stamp): Explore's and
# the home feeds' cached ids, a profile's numbers and unread counts stayed as they were for
# up to ten minutes. A command run through manage.py replaces a file when it ends
# (commands_ended); the server clears its cache at its first request after that
# (ClearedAfterCommandsMiddleware). With Redis every process shares one cache: settings
# then name no file and neither does anything.


def commands_ended():
    """Replace settings.LOCAL_CACHE_GENERATION_FILE (when set), so the server process
    clears its in-process cache. Called by extagram.cli.main when a command ends."""
    if not settings.configured:  # the settings failed to load: that error is the news
        return
    path = getattr(settings, "LOCAL_CACHE_GENERATION_FILE", None)
    if path is None or not path.parent.is_dir():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_text(secrets.token_hex(8))
        os.replace(temporary, path)
    except OSError:  # a data folder this user may not write: the server clears nothing
        pass


def _generation(path):
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns


class ClearedAfterCommandsMiddleware:
    """Clear this process's cache when LOCAL_CACHE_GENERATION_FILE has been replaced
    since the last request (commands_ended): one stat() a request, ~2 microseconds.
    Listed in MIDDLEWARE on the embedded default only."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = settings.LOCAL_CACHE_GENERATION_FILE
        self.seen = _generation(self.path)

    def __call__(self, request):
        now = _generation(self.path)
        if now != self.seen:
            self.seen = now
            clear_all_but_rate_limits()
        return self.get_response(request)


# The keys of rate limits' counts, as the two libraries write them: django-ratelimit's
# (RATELIMIT_CACHE_PREFIX, default "rl:") and allauth's ("allauth:rl:...",
# allauth.core.internal.ratelimit.get_cache_key).
RATE_LIMIT_KEYS = ("rl:", "allauth:rl:")


def clear_all_but_rate_limits():
    """Empty this process's LocMemCache but for rate limits' counts (RATE_LIMIT_KEYS):
    cache.clear() reset them too, so a command run beside the server (`make demo`,
    `manage.py check`) let a locked-out log-in guess again at once, and allauth's
    3-minute e-mail cooldown ended early. Only for the embedded default's LocMemCache,
    whose stored keys it reads (":<version>:<key>" with no KEY_PREFIX)."""
    stored_keys = getattr(cache, "_cache", None)
    if not isinstance(stored_keys, dict):  # another backend (a test's Redis): all of it
        cache.clear()
        return
    for stored in list(stored_keys):
        key = stored.split(":", 2)[2]
        if not key.startswith(RATE_LIMIT_KEYS):
            cache.delete(key)
