"""How the proxy reaches the app replicas (deploy/proxy/templates/10-http.conf.template).

Reads (GET, HEAD) go through `upstream extagram_app_kept`, whose connections the proxy
keeps open; every other method gets a new connection through the resolver, as all did
before (docs/performance.md, "Connections kept to the app"). That the connections are
really kept, and POSTs' are not, is checked on the stack (tests/stack/test_stack.py)."""

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTTP_TEMPLATE = ROOT / "deploy/proxy/templates/10-http.conf.template"
SITE_TEMPLATE = ROOT / "deploy/proxy/templates/20-site.conf.template"
GUNICORN_CONF = ROOT / "deploy/app/gunicorn.conf.py"


def _block(text, opening):
    """The directives inside `<opening> {...}`, comments dropped."""
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    start = re.search(re.escape(opening) + r"\s*\{", text)
    assert start, f"no {opening!r} block"
    depth, i = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start.end() : i - 1]


def _directives(block):
    return [" ".join(line.split()) for line in block.split(";") if line.strip()]


def test_the_kept_group_follows_the_replicas_through_dns_and_sets_none_aside():
    group = _directives(_block(HTTP_TEMPLATE.read_text(), "upstream extagram_app_kept"))
    # `resolve` needs the group in shared memory; max_fails=0: after an error each request
    # still tries every address in turn, none is skipped for fail_timeout
    assert "zone extagram_app_kept 64k" in group
    assert "server ${EXTAGRAM_APP_UPSTREAM} resolve max_fails=0" in group
    assert "keepalive ${EXTAGRAM_APP_KEPT}" in group


def test_the_proxy_closes_an_idle_connection_before_gunicorn_does():
    group = _directives(_block(HTTP_TEMPLATE.read_text(), "upstream extagram_app_kept"))
    (timeout,) = [d for d in group if d.startswith("keepalive_timeout ")]
    seconds = int(re.fullmatch(r"keepalive_timeout (\d+)s", timeout).group(1))
    assert seconds < runpy.run_path(str(GUNICORN_CONF))["keepalive"]


def test_only_reads_take_a_kept_connection():
    mapping = _directives(_block(HTTP_TEMPLATE.read_text(), "map $request_method $extagram_app"))
    assert sorted(mapping) == [
        "GET ${EXTAGRAM_APP_READS}",
        "HEAD ${EXTAGRAM_APP_READS}",
        "default ${EXTAGRAM_APP_UPSTREAM}",
    ]


def test_every_location_of_the_app_passes_through_that_choice():
    site = SITE_TEMPLATE.read_text()
    passes = re.findall(r"proxy_pass http://\$(\w+);", site)
    assert passes.count("extagram_app") >= 4, passes
    assert "set $extagram_app" not in site  # the map is its one source
    # the upload tier keeps a connection per request (its requests are POSTs)
    assert "extagram_upload" in passes
