"""Where the proxy takes nginx's cache lock (deploy/proxy/templates/20-site.conf.template).

A request waiting on `proxy_cache_lock` is looked at again only every 500 ms (a fixed poll
in nginx's ngx_http_file_cache.c), so under concurrent first fetches of a new photo the
lock held its first visitors up to half a second (p99 401-466 ms against 21-40 ms without
it, measured on the stack: docs/performance.md, "cache lock"). Photos and static files cost
their tier a sendfile, so the edge cache for them takes no lock; a page costs the app a
render, so the microcache keeps one. The timing itself is the bench's (case 4's p99 lines),
never a test's."""

import re
from pathlib import Path

PROXY = Path(__file__).resolve().parents[2] / "deploy/proxy"
TEMPLATE = PROXY / "templates/20-site.conf.template"
ASSET_INCLUDE = "include /tmp/extagram-nginx/asset-location.inc;"


def _location(prefix):
    """The directives of the `location <prefix> {...}` block, comments dropped."""
    text = "\n".join(line.split("#", 1)[0] for line in TEMPLATE.read_text().splitlines())
    start = re.search(rf"location {re.escape(prefix)} \{{", text)
    assert start, f"no location {prefix} in {TEMPLATE.name}"
    depth, i = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start.end() : i - 1].replace(ASSET_INCLUDE, _asset_include())


def _asset_include():
    """asset-location.inc as render-config.sh writes it (a here-document)."""
    script = (PROXY / "render-config.sh").read_text()
    found = re.search(r"cat > \"\$OUT/asset-location.inc\" <<'EOF'\n(.*?)\nEOF\n", script, re.S)
    assert found, "render-config.sh writes no asset-location.inc"
    return found.group(1)


def test_photos_and_static_files_are_cached_at_the_edge_without_a_cache_lock():
    for prefix in ("^~ /media/", "^~ /static/"):
        block = _location(prefix)
        assert "proxy_cache extagram_assets;" in block, prefix
        assert "proxy_cache_lock" not in block, prefix


def test_pages_are_rendered_once_for_concurrent_first_visitors():
    block = _location("/")
    # the microcache, off for a request with a precondition (10-http.conf's map)
    assert "proxy_cache $extagram_page_cache;" in block
    http = (PROXY / "templates/10-http.conf.template").read_text()
    assert re.search(r'map "[^"]*" \$extagram_page_cache \{\s*""\s+extagram_micro;', http)
    assert "proxy_cache_lock on;" in block
