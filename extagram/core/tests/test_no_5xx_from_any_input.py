"""No input gives a 5xx, and no redirect leaves the site: a property, checked with Hypothesis.

What is walked, found at run time (so pages added later are covered without editing
this file):

- every URL pattern the resolver knows (`url_targets`), its path converters filled
  with real ids and names from `site_data` or with odd values;
- every <form> that those pages render (`form_targets`): each page is fetched with
  valid values, as each role, and its forms' fields are collected.

A new view's form is covered as soon as any walked page renders it. If a page needs
data the site does not have yet (an object of a new model, say), create it in
`site_data` and add its id or name to the pool there; nothing else needs changing.

Each target is sent odd values (`ODD`: empty, very long, non-UTF-8 bytes, NUL, `..`,
URL names, absolute and scheme-relative URLs, numbers out of range, repeated keys where
one value is expected) in the query string, the body and the path, with GET, POST and
other methods, signed out and signed in as the owner of the data, as a stranger and as
staff. Two passes per target: Hypothesis draws combinations (EXTAGRAM_FUZZ_EXAMPLES per
URL pattern, default 4, three times as many per form), and a deterministic sweep puts
every value of ODD in every form field (and `next`) and every path parameter, one at a
time, so no named value is left to chance (staff's admin forms, Django's own and many,
get the random pass only). Every request runs in a savepoint that is rolled back and the
role's cookies are restored, so each starts from the same data, still signed in.

Cost: about 50 s of CPU on the 2-core CI machine with the defaults. Hypothesis keeps
failing examples in .hypothesis/ (git-ignored) and replays them first on the next run.
"""

import copy
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urljoin, urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from extagram.posts.models import Comment, Post
from extagram.testing.images import jpeg_bytes

EXAMPLES = int(os.environ.get("EXTAGRAM_FUZZ_EXAMPLES", "4"))
FORM_EXAMPLES = 3 * EXAMPLES  # forms are fewer, and reach deeper into the views
ROLES = ("anonymous", "owner", "stranger", "staff")
# Roles whose forms also get the deterministic sweep (staff's admin forms are Django's and
# many: they get the random examples only, to keep the test within a minute).
SWEPT_ROLES = ("anonymous", "owner", "stranger")
HOST = "testserver"

# Odd values, as bytes (they go on the wire percent-encoded or raw).
ODD = [
    b"",
    b" ",
    b"..",
    b"../../../etc/passwd",
    b"%2e%2e%2f",
    b"feed",
    b"profile",
    b"admin:index",
    b"foo",
    b"http://evil.example/",
    b"https://evil.example/p/1/",
    b"//evil.example/",
    b"/\\evil.example/",
    b"https:evil.example",
    b"javascript:alert(1)",
    b"0",
    b"-1",
    b"1.5",
    b"1e309",
    b"NaN",
    b"2147483648",
    b"9223372036854775808",
    b"99999999999999999999999999999999",
    b"\x00",
    b"a\x00b",
    b"\xff\xfe\xfd",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    "\u202e\u0301é日本".encode(),
    b"\r\nSet-Cookie: x=1",
    b"<script>alert(1)</script>",
    b"' OR 1=1 --",
    b"x" * 5000,
    b"y" * 100_000,
]
COMMON_KEYS = ["next", "before", "fragment", "page", "q", "id", "pk", "username", "lang"]


def odd_values():
    """Mostly the named odd values, sometimes arbitrary bytes or text."""
    return st.one_of(
        st.sampled_from(ODD),
        st.sampled_from(ODD),
        st.binary(max_size=40),
        st.text(max_size=40).map(str.encode),
    )


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
    """An owner with a post (photo, comment, like), a stranger and a member of staff;
    the pool of valid values for path converters (ids and names that exist)."""
    from extagram.uploads.images import process_photo

    owner = django_user_model.objects.create_user("alice", password="pw-alice-123456")
    stranger = django_user_model.objects.create_user("bob", password="pw-bob-1234567")
    staff = django_user_model.objects.create_user(
        "sam", password="pw-sam-12345678", is_staff=True, is_superuser=True
    )
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


def clients(data):
    result = {"anonymous": Client()}
    for role in ("owner", "stranger", "staff"):
        client = Client()
        client.force_login(data[role])
        result[role] = client
    return result


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


# ---------------------------------------------------------------- one request


def _encode_pairs(pairs, raw):
    if raw:  # bytes as they are (a client that does not percent-encode)
        return b"&".join(k + b"=" + v for k, v in pairs)
    return b"&".join(
        quote_from_bytes(k).encode() + b"=" + quote_from_bytes(v).encode() for k, v in pairs
    )


def _multipart(pairs, files):
    boundary = b"----extagramfuzz"
    out = []
    for key, value in pairs:
        out += [
            b"--" + boundary,
            b'Content-Disposition: form-data; name="' + key + b'"',
            b"",
            value,
        ]
    for key, filename, content in files:
        out += [
            b"--" + boundary,
            b'Content-Disposition: form-data; name="' + key + b'"; filename="' + filename + b'"',
            b"Content-Type: image/jpeg",
            b"",
            content,
        ]
    out.append(b"--" + boundary + b"--")
    return b"\r\n".join(out) + b"\r\n", "multipart/form-data; boundary=----extagramfuzz"


FILES = [
    b"",
    b"not an image",
    jpeg_bytes(32, 24),
    jpeg_bytes(32, 24)[:200],
    b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
]
FILENAMES = [b"p.jpg", b"", b"../../etc/passwd", b"x\x00.jpg", b"\xff.jpg", b"a" * 300 + b".jpg"]


@st.composite
def request_for(draw, target, keys, pool):
    """(method, path, query string, body, content type, headers) for one example."""
    values = {
        name: draw(st.one_of(st.sampled_from(pool), odd_values()))
        for text, name in target.path_parts
        if name is not None
    }
    path = target.action or build_path(target.path_parts, values)
    method = target.method or draw(
        st.sampled_from(["GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"])
    )
    key = st.one_of(st.sampled_from([k.encode() for k in keys]), odd_values())
    pair = st.tuples(key, st.one_of(st.sampled_from(pool), odd_values()))
    query = draw(st.lists(pair, max_size=4))
    if draw(st.booleans()) and query:  # an array where a scalar is expected
        query.append(query[0])
    body_pairs = draw(st.lists(pair, max_size=6))
    if target.fields:
        for name, _kind in target.fields:
            if draw(st.booleans()):
                body_pairs.append(
                    (name.encode(), draw(st.one_of(st.sampled_from(pool), odd_values())))
                )
                if draw(st.integers(0, 4)) == 0:
                    body_pairs.append((name.encode(), draw(odd_values())))
    raw = draw(st.booleans())
    files = [
        (name.encode(), draw(st.sampled_from(FILENAMES)), draw(st.sampled_from(FILES)))
        for name, kind in target.fields
        if kind == "file" and draw(st.booleans())
    ]
    if target.multipart or files:
        body, content_type = _multipart(body_pairs, files)
    else:
        body = _encode_pairs(body_pairs, raw)
        # Mostly what a browser sends, sometimes a body the view does not expect.
        content_type = draw(
            st.sampled_from(
                ["application/x-www-form-urlencoded"] * 5
                + ["application/json", "text/plain", "multipart/form-data"]
            )
        )
    headers = {}
    if draw(st.booleans()):
        headers["Accept"] = draw(st.sampled_from(["application/json", "*/*", "text/html;q=x"]))
    if draw(st.booleans()):
        headers["Accept-Language"] = draw(
            st.sampled_from(["es", "ca", "xx", "*", "es;q=abc", "e" * 500])
        )
    if draw(st.booleans()):
        headers["Referer"] = draw(odd_values()).decode("latin-1")
    if draw(st.integers(0, 5)) == 0:  # odd cookies (this drops the role's session)
        name = draw(st.sampled_from(["sessionid", "csrftoken", "django_language", "messages"]))
        headers["Cookie"] = f"{name}={quote_from_bytes(draw(odd_values()))}"
    return method, path, _encode_pairs(query, raw).decode("latin-1"), body, content_type, headers


def check(client, method, path, query, body, content_type, headers):
    kwargs = {"QUERY_STRING": query, "headers": headers}
    if method in ("POST", "PUT", "DELETE"):
        response = client.generic(method, path, body, content_type=content_type, **kwargs)
    else:
        response = client.generic(method, path, **kwargs)
    described = f"{method} {path}?{query[:200]!r} body={body[:200]!r} headers={headers}"
    if response.streaming:  # read it all, as a browser would: an error there is a broken answer
        b"".join(response.streaming_content)  # (the test client closes it at the end)
    assert response.status_code < 500, f"{response.status_code} for {described}"
    if 300 <= response.status_code < 400 and response.has_header("Location"):
        location = response["Location"]
        parts = urlsplit(location)
        assert parts.scheme in ("", "http", "https"), f"redirect to {location!r} for {described}"
        assert parts.netloc in ("", HOST), f"redirect off the site to {location!r} for {described}"
        assert not location.startswith(("//", "/\\")), f"redirect to {location!r} for {described}"


def run_examples(target, client, keys, pool, examples=None):
    cookies = copy.deepcopy(client.cookies)

    @hypothesis_settings(
        max_examples=examples or EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request_for(target, keys, pool))
    def examples(request):
        client.cookies = copy.deepcopy(cookies)  # a logout or login must not carry over
        with transaction.atomic():
            check(client, *request)
            transaction.set_rollback(True)

    examples()
    client.cookies = cookies


def sweep_form(target, client, pool):
    """Every named odd value in every field of a form (and `next`), one at a time, the
    other fields given a valid-looking value: no example left to chance."""
    names = [name for name, _ in target.fields if name != "csrfmiddlewaretoken"]
    cookies = copy.deepcopy(client.cookies)
    for name in dict.fromkeys([*names, "next"]):
        for value in ODD:
            pairs = [(n.encode(), pool[0]) for n in names if n != name] + [(name.encode(), value)]
            if target.multipart:
                body, content_type = _multipart(pairs, [])
            else:
                body, content_type = (
                    _encode_pairs(pairs, raw=False),
                    "application/x-www-form-urlencoded",
                )
            client.cookies = copy.deepcopy(cookies)
            with transaction.atomic():
                check(client, target.method, target.action, "", body, content_type, {})
                transaction.set_rollback(True)
    client.cookies = cookies


def sweep_path(target, client, pool):
    """Every named odd value in every path parameter of a pattern (GET and POST)."""
    names = [name for _text, name in target.path_parts if name is not None]
    if not names:
        return
    valid = client.get(build_path(target.path_parts, dict.fromkeys(names, pool[0])))
    if valid.status_code in (301, 302) and "login" in valid["Location"]:
        return  # this role never reaches the view (e.g. the admin for a member)
    cookies = copy.deepcopy(client.cookies)
    for name in names:
        for value in ODD:
            path = build_path(target.path_parts, {n: pool[0] for n in names} | {name: value})
            for method in ("GET", "POST"):
                client.cookies = copy.deepcopy(cookies)
                with transaction.atomic():
                    check(client, method, path, "", b"", "application/x-www-form-urlencoded", {})
                    transaction.set_rollback(True)
    client.cookies = cookies


# ---------------------------------------------------------------- the tests


def assert_still_signed_in(client, role):
    """Examples are rolled back and cookies restored: a role that lost its session
    half-way would have walked the rest signed out, unnoticed."""
    if role != "anonymous":
        assert client.get("/upload/").status_code == 200, f"{role} was signed out by the walk"


@pytest.fixture
def site(db, django_user_model, settings):
    settings.RATELIMIT_ENABLE = False
    settings.ACCOUNT_RATE_LIMITS = False
    data = site_data(django_user_model)
    return data, clients(data)


def test_the_walker_reaches_every_url_pattern_with_real_values(site):
    """Sanity for the walk: each pattern, filled from the pool, resolves to itself."""
    from django.urls import Resolver404, resolve

    data, _ = site
    unreached = []
    for target in url_targets():
        names = [name for text, name in target.path_parts if name is not None]
        hit = False
        for value in data["pool"] + [b"x"]:
            path = build_path(target.path_parts, dict.fromkeys(names, value))
            try:
                match = resolve(path.encode("latin-1").decode("utf-8", "replace"))
            except Resolver404:
                continue
            if match.route == target.route:
                hit = True
                break
        if not hit:
            unreached.append(target.label)
    assert len(url_targets()) > 20
    assert unreached == [], unreached


@pytest.mark.parametrize("role", ROLES)
def test_no_url_pattern_answers_5xx_or_redirects_off_site(site, role):
    data, role_clients = site
    keys = COMMON_KEYS
    for target in url_targets():
        if role == "owner":
            sweep_path(target, role_clients[role], data["pool"])
        run_examples(target, role_clients[role], keys, data["pool"])
    assert_still_signed_in(role_clients[role], role)


@pytest.mark.parametrize("role", ROLES)
def test_no_form_answers_5xx_or_redirects_off_site(site, role):
    data, role_clients = site
    forms = [t for (r, *_rest), t in form_targets(data, {role: role_clients[role]}).items()]
    assert forms, "no form found on any page"
    for target in forms:
        keys = COMMON_KEYS + [name for name, _ in target.fields]
        if role in SWEPT_ROLES:
            sweep_form(target, role_clients[role], data["pool"])
            run_examples(target, role_clients[role], keys, data["pool"], FORM_EXAMPLES)
        else:
            run_examples(target, role_clients[role], keys, data["pool"])
    assert_still_signed_in(role_clients[role], role)
