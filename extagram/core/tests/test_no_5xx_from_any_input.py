"""No input gives a 5xx, and no redirect leaves the site: a property, checked with Hypothesis.

What is walked, found at run time by extagram/testing/walker.py (so pages added later
are covered without editing this file):

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
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from extagram.testing.images import jpeg_bytes
from extagram.testing.walker import ROLES, build_path, clients, form_targets, site_data, url_targets

EXAMPLES = int(os.environ.get("EXTAGRAM_FUZZ_EXAMPLES", "4"))
FORM_EXAMPLES = 3 * EXAMPLES  # forms are fewer, and reach deeper into the views
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
    "\u00b2".encode(),  # a superscript two: str.isdigit() says yes, int() raises
    "\u0663\uff11".encode(),  # Arabic-Indic and full-width digits: int() takes them
    b"\x00",
    b"a\x00b",
    b"\xff\xfe\xfd",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    "\u202e\u0301é日本".encode(),
    "\u0301\u0308".encode(),  # only combining marks: empty once accents are folded away
    "@\u0301".encode(),
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
