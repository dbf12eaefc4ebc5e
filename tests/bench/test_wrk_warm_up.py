"""bench.wrk.fetch: the fetch that fills the proxy's edge cache before a load asks exactly
as the load's wrk requests will. A cache keeps one copy per Accept-Encoding value of a
`Vary: Accept-Encoding` answer, and Python's http.client adds `Accept-Encoding: identity`
where wrk sends none: a warm-up made that way left the stylesheet's load starting on a
first fetch (docs/performance.md, "cache lock"). Checked against a local HTTP server that
records each request's headers, with Debian's wrk itself as the reference."""

import shutil

import pytest

from bench import wrk
from tests.bench.recorder import recording_server
from tests.stack.conftest import unavailable


@pytest.fixture
def server():
    with recording_server() as (url, seen):
        yield url, seen


def _what_wrk_sends(url, headers, seen):
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (apt-get install wrk)")
    wrk.run(wrk.Load(url, headers=headers), 1, threads=1, connections=1)
    assert seen.requests, "wrk sent nothing"
    return seen.requests[0]


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "127.0.0.1:8080"},
        {"Host": "127.0.0.1:8080", "Accept-Encoding": "gzip, deflate, br"},
    ],
    ids=["plain", "gzip"],
)
def test_a_warm_up_fetch_sends_the_headers_wrk_sends(server, headers):
    url, seen = server
    expected = _what_wrk_sends(f"{url}/static/app.css", headers, seen)
    # the fetch asks a server of its own: wrk's last requests may still be arriving at
    # the first one after it returns (a CI run under load saw two there)
    with recording_server() as (fetch_url, fetched):
        assert wrk.fetch(f"{fetch_url}/static/app.css", headers) == 200
    (sent,) = fetched.requests
    # the same headers, a repeated one included; their order is not wrk's to keep (a Lua
    # table's)
    assert (sent[0], sorted(sent[1])) == (expected[0], sorted(expected[1]))


def test_a_warm_up_fetch_adds_no_accept_encoding_of_its_own(server):
    url, seen = server
    assert wrk.fetch(f"{url}/media/photo.jpg") == 200
    assert seen.header("Accept-Encoding") == [None]
    assert seen.header("Host") == [url.removeprefix("http://")]


def test_a_warm_up_fetch_refuses_another_machines_address():
    with pytest.raises(ValueError, match="not this machine's"):
        wrk.fetch("http://192.0.2.1:8080/static/app.css")
