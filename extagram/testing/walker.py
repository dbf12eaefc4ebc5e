"""Walk the site as tests see it: every URL pattern the resolver knows, and every form
the site's pages render, with data and signed-in clients to reach them.

Used by the no-5xx property test and the page-structure tests, so a page another
change adds is walked by all of them without editing any. Paths are built from the
patterns themselves (`url_targets`, `build_path`); forms are collected from the pages
(`form_targets`). To reach a page that needs data the site does not have yet, create
it in `site_data` and add its id or name to the pool there.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urljoin, urlsplit

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from extagram.posts.models import Comment, Post
from extagram.testing.base import PASSWORD
from extagram.testing.images import jpeg_bytes

ROLES = ("anonymous", "owner", "stranger", "staff")


@dataclass
class Target:
    """One URL pattern, or one form found on a page."""

    label: str
    route: str = ""  # the joined route, as ResolverMatch.route gives it
    path_parts: list = field(default_factory=list)  # [(text, None) | (None, kwarg)]
    method: str | None = None  # forms: their method; patterns: drawn
    action: str | None = None  # forms: the resolved action path
    fields: list = field(default_factory=list)  # forms: [(name, type)]
    multipart: bool = False


# ---------------------------------------------------------------- the site's URL patterns

_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def _parts(pattern):
    """A pattern's text as [(literal, None) | (None, kwarg name)]."""
    if isinstance(pattern, RoutePattern):
        text, regex = str(pattern), _ROUTE_PARAM
    elif isinstance(pattern, RegexPattern):
        text, regex = (
            str(pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z"),
            _REGEX_GROUP,
        )
    else:  # e.g. LocalePrefixPattern
        return [(str(pattern), None)]
    parts, pos = [], 0
    for match in regex.finditer(text):
        parts.append((_literal(text[pos : match.start()], pattern), None))
        parts.append((None, match.group("name")))
        pos = match.end()
    parts.append((_literal(text[pos:], pattern), None))
    return [p for p in parts if p != ("", None)]


def _literal(text, pattern):
    if isinstance(pattern, RegexPattern):
        return re.sub(r"\\(.)", r"\1", text).replace("^", "").replace("$", "")
    return text


def url_targets():
    """Every URL pattern of the project, nested includes flattened."""

    def walk(patterns, prefix, route):
        for entry in patterns:
            parts = prefix + _parts(entry.pattern)
            joined = (
                URLResolver._join_route(route, str(entry.pattern)) if route else str(entry.pattern)
            )
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, parts, joined)
            elif isinstance(entry, URLPattern):
                label = "".join(text if text is not None else f"<{name}>" for text, name in parts)
                yield Target(label="/" + label, route=joined, path_parts=parts)

    return list(walk(get_resolver().url_patterns, [], ""))


def build_path(parts, values):
    """A path from pattern parts, kwargs filled from `values` (bytes, percent-encoded)."""
    out = []
    for text, name in parts:
        if name is None:
            out.append(quote(text, safe="/"))
        else:
            out.append(quote_from_bytes(values[name], safe="/%"))
    return "/" + "".join(out)


# ---------------------------------------------------------------- data and clients


def site_data(django_user_model):
    """An owner with a verified address (so the two-factor pages open) and a post (photo,
    comment, like), a stranger and a member of staff; the pool of valid values for path
    converters (ids and names that exist)."""
    from allauth.account.models import EmailAddress

    from extagram.uploads.images import process_photo

    owner = django_user_model.objects.create_user("alice", password=PASSWORD)
    stranger = django_user_model.objects.create_user("bob", password=PASSWORD)
    staff = django_user_model.objects.create_user(
        "sam", password=PASSWORD, is_staff=True, is_superuser=True
    )
    EmailAddress.objects.create(user=owner, email="alice@example.com", verified=True, primary=True)
    photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(64, 48)), max_pixels=10**6)
    post = Post.objects.create_with_photo(owner, photo, caption="Hello #tag @bob")
    comment = Comment.objects.create(post=post, author=stranger, body="Nice")
    post_type = ContentType.objects.get_for_model(Post)
    media_path = post.large_url.split("/media/", 1)[-1]
    pool = [
        str(post.pk),
        str(comment.pk),
        str(owner.pk),
        owner.username,
        stranger.username,
        media_path,
        str(post_type.pk),
        "auth",
        "posts",
        "tag",  # the caption's #tag: /tags/tag/ exists
    ]
    return {
        "owner": owner,
        "stranger": stranger,
        "staff": staff,
        "pool": [v.encode() for v in pool],
    }


def clients(data, language=None):
    """A test client for each of ROLES; the signed-in ones have also just confirmed their
    password, as allauth asks before the e-mail and two-factor pages open. With `language`
    (e.g. "es"), every request of theirs asks for it (Accept-Language)."""
    headers = {"accept-language": language} if language else None
    result = {"anonymous": Client(headers=headers)}
    for role in ("owner", "stranger", "staff"):
        client = Client(headers=headers)
        client.force_login(data[role])
        client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        result[role] = client
    return result


def site_pages(data, language=None):
    """Each HTML page the site answers 200 to a GET, as each role: (role, path, response)
    for every URL pattern (the admin's, Django's own, left out) with each pool value in its
    path parameters; in `language` if given (see `clients`)."""
    for role, client in clients(data, language).items():
        for target in url_targets():
            if target.label.startswith("/admin/"):
                continue
            names = [name for _text, name in target.path_parts if name is not None]
            for value in data["pool"] if names else [b""]:
                path = build_path(target.path_parts, dict.fromkeys(names, value))
                response = client.get(path)
                html = "text/html" in response.get("Content-Type", "")
                if response.status_code == 200 and html and not response.streaming:
                    yield role, path, response


class _Forms(HTMLParser):
    """<form>s in a page: action, method, enctype and field (name, type) pairs."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action") or "",
                    "method": (attrs.get("method") or "get").upper(),
                    "multipart": "multipart" in (attrs.get("enctype") or ""),
                    "fields": [],
                }
            )
        elif tag in ("input", "textarea", "select", "button") and self.forms and attrs.get("name"):
            kind = attrs.get("type") or tag
            self.forms[-1]["fields"].append((attrs["name"], kind))


def form_targets(data, role_clients):
    """The forms rendered by every walked page, GET with valid values, for every role."""
    found = {}
    for target in url_targets():
        names = [name for text, name in target.path_parts if name is not None]
        values = {name: data["pool"][0] for name in names}
        candidates = [values]
        for name in names:  # a few valid combinations, not all of them
            candidates += [{**values, name: v} for v in data["pool"][1:]]
        for role, client in role_clients.items():
            for vals in candidates:
                path = build_path(target.path_parts, vals)
                response = client.get(path)
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                parser = _Forms()
                parser.feed(response.content.decode("utf-8", "replace"))
                for form in parser.forms:
                    action = urlsplit(urljoin(path, form["action"])).path
                    key = (role, action, form["method"], tuple(form["fields"]))
                    found.setdefault(
                        key,
                        Target(
                            label=f"{role} {form['method']} form -> {action} (on {path})",
                            method=form["method"],
                            action=action,
                            fields=form["fields"],
                            multipart=form["multipart"],
                        ),
                    )
    return found
