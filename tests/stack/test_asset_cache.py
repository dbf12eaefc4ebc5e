"""The proxy's edge cache for photos and static files (issue 13, goal 1).

A repeat of a photo or a stylesheet is answered by the proxy from its cache (X-Cache: HIT)
with the same bytes and the same headers as the tier's own answer (one nosniff, the media
tier's sandbox CSP, X-Extagram-Tier naming the tier that made it); a deleted post's photo
stops being served within EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS of its file's deletion.
"""

import itertools
import re
import secrets
import time

import pytest

from extagram.testing.images import noisy_jpeg
from tests.stack.stackhelpers import fetch_all_at_once, photo_names

pytestmark = pytest.mark.stack

PHOTO_SRC = re.compile(r'<img class="photo" src="(/media/photos/[^"]+)"')
CSS_HREF = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"')
JS_SRC = re.compile(r'<script src="(/static/[^"]+\.js)"')
LOGO_HREF = re.compile(r'<link rel="icon" href="(/static/[^"]+\.svg)"')
# in the upload container (the media volume read-write): `python -c WRITE_FILES size name...`
# writes each name under /data/media from `size` bytes of stdin in turn
WRITE_FILES = """import pathlib, sys
size = int(sys.argv[1])
for name in sys.argv[2:]:
    path = pathlib.Path("/data/media", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sys.stdin.buffer.read(size))
"""
# headers that differ per answer by design
PER_ANSWER = {"date", "x-request-id", "x-cache", "connection", "keep-alive"}


def _headers(response):
    return sorted(
        (k.lower(), v) for k, v in response.headers.items() if k.lower() not in PER_ANSWER
    )


def _post_a_photo(stack):
    """A new user's post with a photo no other test uses: (client, post URL, photo URL)."""
    client = stack.client()
    name = "cache" + secrets.token_hex(4)
    assert client.signup(name, "Correct-Horse-" + secrets.token_hex(6)).status == 302
    response = client.post_multipart(
        "/upload/",
        {"caption": "edge cache test", "alt_text": "noise"},
        {"photo": ("noise.jpg", noisy_jpeg(400, 300, seed=secrets.randbits(32)), "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:500]}"
    post_url = response.location
    page = client.get(post_url)
    assert page.status == 200
    return client, post_url, PHOTO_SRC.search(page.text).group(1)


def test_a_second_fetch_of_a_photo_is_a_proxy_cache_hit_with_the_same_answer(stack):
    _, _, photo = _post_a_photo(stack)
    first = stack.client().get(photo)
    second = stack.client().get(photo)
    assert first.status == second.status == 200
    assert first.header("X-Cache") == "MISS"
    assert second.header("X-Cache") == "HIT"
    assert second.body == first.body and second.body[:3] == b"\xff\xd8\xff"
    assert _headers(second) == _headers(first)
    assert second.header("X-Extagram-Tier") == "media"
    assert second.headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert len(second.headers.get_all("Content-Security-Policy")) == 1
    assert "sandbox" in second.header("Content-Security-Policy")
    assert "immutable" in second.header("Cache-Control")
    # the query string is not part of the key: junk cannot push files out of the cache
    assert stack.client().get(photo + "?x=" + secrets.token_hex(4)).header("X-Cache") == "HIT"


def test_a_second_fetch_of_the_stylesheet_is_a_hit_and_still_gzipped(stack):
    css = CSS_HREF.search(stack.client().get("/").text).group(1)
    gzip = {"Accept-Encoding": "gzip"}
    stack.client().get(css, headers=gzip)
    again = stack.client().get(css, headers=gzip)
    assert again.status == 200
    assert again.header("X-Cache") == "HIT"
    assert again.header("X-Extagram-Tier") == "static"
    assert again.header("Content-Encoding") == "gzip"
    assert again.headers.get_all("X-Content-Type-Options") == ["nosniff"]
    # a client that does not accept gzip is not given the cached gzip copy (Vary)
    plain = stack.client().get(css)
    assert plain.status == 200 and plain.header("Content-Encoding") is None


def _vary(response):
    """The names in all of a response's Vary headers, lower case, in order."""
    names = ",".join(response.headers.get_all("Vary") or [])
    return [name.strip().lower() for name in names.split(",") if name.strip()]


def test_every_answer_names_each_header_it_varies_on_once(stack):
    # the static tier sends its .gz or plain copy with Vary: Accept-Encoding; the proxy
    # must not add a second one for the plain copy (it compresses nothing under /static/)
    page = stack.client().get("/").text
    assets = [rx.search(page).group(1) for rx in (CSS_HREF, JS_SRC, LOGO_HREF)]
    encodings = [{"Accept-Encoding": "gzip"}, {}, {"Accept-Encoding": "br"}]
    # each twice: the tier's answer, then the cached copy
    for path, headers, _ in itertools.product(["/", *assets], encodings, range(2)):
        response = stack.client().get(path, headers=headers)
        assert response.status == 200, (path, headers)
        vary = _vary(response)
        assert len(vary) == len(set(vary)), (path, headers, vary)
        gzipped = response.header("Content-Encoding") == "gzip"
        if "gzip" not in headers.get("Accept-Encoding", ""):
            assert not gzipped, (path, headers)
        elif path != assets[2]:  # the page, CSS and JS; the small icon may be plain
            assert gzipped, (path, headers)
        if gzipped:
            assert "accept-encoding" in vary, (path, headers, vary)


def test_a_missing_photo_is_a_404_that_is_not_kept_long(stack):
    missing = "/media/photos/00/" + "0" * 64 + ".jpg"
    response = stack.client().get(missing)
    assert response.status == 404
    assert "immutable" not in response.header("Cache-Control", "")


def test_a_missing_photo_or_file_gets_the_sites_own_404_page(stack):
    # a deleted post's photo opened from an old link showed the media tier's bare page
    for path in ("/media/photos/00/" + "1" * 64 + ".jpg", "/static/extagram/gone.css"):
        for accept, heading in (("en", "Page not found"), ("es", "Página no encontrada")):
            response = stack.client().get(path, headers={"Accept-Language": accept})
            assert response.status == 404, (path, accept)
            assert f"<h1>{heading}</h1>" in response.text, (path, accept, response.text[:300])
            assert "nginx" not in response.text, (path, accept)


def test_a_folder_of_photos_or_files_is_the_sites_404_page_not_a_bare_403(stack):
    for path in ("/static/", "/static/extagram/", "/media/", "/media/photos/"):
        response = stack.client().get(path)
        assert response.status == 404, (path, response.status, response.text[:300])
        assert "<h1>Page not found</h1>" in response.text, path


def test_a_deleted_posts_photo_stops_being_served_within_the_bound(stack):
    bound = int(stack.env.get("EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS", "60"))
    client, post_url, photo = _post_a_photo(stack)
    stack.client().get(photo)
    assert stack.client().get(photo).header("X-Cache") == "HIT"
    pk = re.search(r"/p/(\d+)/", post_url).group(1)
    deleted = client.post_form(f"/p/{pk}/delete/", {}, token_from=f"/p/{pk}/delete/")
    assert deleted.status == 302, f"delete: {deleted.status}"
    started = time.monotonic()
    # the file goes when the post does (or at the next media sweep, every 3 s here);
    # the proxy's copy at most `bound` seconds later
    deadline = started + bound + 15
    status = 200
    while time.monotonic() < deadline:
        status = stack.client().get(photo).status
        if status == 404:
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    assert status == 404, f"the deleted photo was still served {elapsed:.0f} s later"


def test_a_burst_of_first_fetches_gets_every_photo_whole(stack):
    # A first fetch is written whole into the edge cache while it arrives, before the
    # cache manager trims the cache to its 16 MB. In the proxy's 32-MB /tmp, 120 photos of
    # 400 KB asked for at once (new visitors on a cold cache) got 37 cut short or closed:
    # "No space left on device" (docs/performance.md, "A burst of first fetches").
    files = photo_names(100, 400_000)
    data = b"".join(files.values())
    stack.exec("upload", "python", "-c", WRITE_FILES, "400000", *files, stdin=data)
    try:
        outcomes = fetch_all_at_once(stack, [f"/media/{name}" for name in files])
    finally:
        stack.exec("upload", "rm", "-f", *(f"/data/media/{name}" for name in files))
    assert outcomes == [(200, 400_000)] * len(files)


def test_a_restart_empties_the_edge_cache(stack):
    # On its volume the cache would outlive the proxy: a photo cached before a lower
    # EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS kept the lifetime it was cached with (a
    # deleted post's photo served 300 s after the variable said 5), and a dead worker's
    # half-written files stayed. The proxy empties it (and the spool) at each start.
    _, _, photo = _post_a_photo(stack)
    assert stack.client().get(photo).header("X-Cache") == "MISS"
    assert stack.client().get(photo).header("X-Cache") == "HIT"
    leftovers = ("/var/cache/extagram/assets/a.0000000001", "/var/spool/extagram/proxy/1")
    for leftover in leftovers:  # as a worker killed mid-write leaves them
        stack.exec("proxy", "sh", "-c", "mkdir -p ${0%/*} && echo half > $0", leftover)
    stack.compose("restart", "proxy")
    stack.wait_healthy()
    assert stack.client().get(photo).header("X-Cache") == "MISS"
    found = stack.exec("proxy", "sh", "-c", 'ls -d "$@" 2>/dev/null; true', "ls", *leftovers)
    assert found == "", found
