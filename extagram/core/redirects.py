"""Redirects to a target the visitor chose (`next`), limited to this site.

Every view that takes a user-controlled redirect target goes through here, so one
rule holds everywhere: only a same-site relative path is followed ("/p/3/#post-3");
anything else (a URL name like "feed", "..", an absolute or scheme-relative URL,
control characters, a target too long for a proxy's header buffer) falls back to a
page the view names. Nothing raises.
"""

from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.utils.http import url_has_allowed_host_and_scheme

# The proxy's header buffer is 16 KB (deploy/proxy/templates/10-http.conf.template,
# proxy_buffer_size): a Location longer than that becomes a 502 there. 2,000 characters
# is the classic safe URL length for browsers and leaves room for the other headers.
MAX_TARGET_LENGTH = 2000


def safe_target(target, request=None):
    """`target` (str or None) if it is a same-site path, else None.

    A same-site path starts with exactly one "/" (not "//" or "/\\", which browsers
    read as another host), holds no control or whitespace characters, is at most
    MAX_TARGET_LENGTH characters, and passes Django's url_has_allowed_host_and_scheme
    (with require_https when `request` came over HTTPS).
    """
    if not isinstance(target, str) or not 1 <= len(target) <= MAX_TARGET_LENGTH:
        return None
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 33 or ord(c) == 127 for c in target):
        return None
    secure = request.is_secure() if request is not None else False
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None, require_https=secure):
        return None
    return target


def next_target(request, field="next"):
    """The `next` value from POST, else GET, if it is a safe target; else None."""
    target = request.POST.get(field) if request.method == "POST" else None
    return safe_target(target or request.GET.get(field), request)


def redirect_back(request, fallback, *args, **kwargs):
    """Redirect to the request's safe `next`, else to `fallback`.

    `fallback` is anything django.shortcuts.resolve_url takes from our own code: a
    model instance, a URL name (with `args`/`kwargs`) or a path. The visitor's value
    never goes to resolve_url, so it is never taken as a URL name.
    """
    target = next_target(request)
    return HttpResponseRedirect(target or resolve_url(fallback, *args, **kwargs))


def viewed_path(request, fallback=None):
    """The path (with its query, without a #fragment) of the page the visitor is looking
    at, for the `next` of a form on it, so that a form sent without the page's script
    brings them back there: a script's request for more of a page (`?fragment=1`,
    infinite scroll) names the page without that parameter; a script's POST (a like
    answered with JSON and a fresh form) the safe `next` it sent, else `fallback` (a
    path; the request's own when None). A str."""
    if request.method == "POST":
        target = next_target(request)
        return target.split("#", 1)[0] if target else fallback or request.path
    if request.GET.get("fragment") is None:
        return request.get_full_path()
    query = request.GET.copy()
    del query["fragment"]
    path = escape_uri_path(request.path)
    return f"{path}?{query.urlencode()}" if query else path


def canonical_redirect(request, viewname, **kwargs):
    """A permanent redirect (301) to the canonical address of the page asked for
    (`viewname` reversed with `kwargs`: /u/Ana/ to /u/ana/), keeping the request's query
    string, so a page link's cursor (?before=) still leads to the same page."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(
        reverse(viewname, kwargs=kwargs) + (f"?{query}" if query else "")
    )
