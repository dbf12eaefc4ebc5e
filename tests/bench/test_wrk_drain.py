"""bench.wrk.wait_until_drained: the bench waits for what a finished load left queued
before it starts the next one. Checked against a tiny local HTTP server whose answers are
slow for a while (a queue still draining), never timed against a real stack."""

import http.server
import threading
import time

import pytest

from bench import wrk


class SlowThenFast(http.server.BaseHTTPRequestHandler):
    """Answers slowly until `fast_from` (a time.monotonic() value), then at once."""

    fast_from = 0.0
    delay = 0.0
    paths = []

    def do_GET(self):
        type(self).paths.append(self.path)
        if time.monotonic() < type(self).fast_from:
            time.sleep(type(self).delay)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    SlowThenFast.paths = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowThenFast)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_it_waits_until_the_answers_come_fast_again(server):
    SlowThenFast.delay = 0.2
    SlowThenFast.fast_from = time.monotonic() + 0.6
    waited = wrk.wait_until_drained(f"http://127.0.0.1:{server.server_port}/healthz")
    assert waited >= 0.6
    assert len(SlowThenFast.paths) >= wrk.DRAIN_QUIET_PROBES + 1
    assert set(SlowThenFast.paths) == {"/healthz"}


def test_a_quiet_stack_costs_only_the_probes(server):
    SlowThenFast.fast_from = 0.0
    wrk.wait_until_drained(f"http://127.0.0.1:{server.server_port}/healthz")
    assert len(SlowThenFast.paths) == wrk.DRAIN_QUIET_PROBES


def test_it_gives_up_after_its_timeout_and_lets_the_bench_go_on(server):
    SlowThenFast.delay = 0.1
    SlowThenFast.fast_from = time.monotonic() + 60
    waited = wrk.wait_until_drained(f"http://127.0.0.1:{server.server_port}/", timeout=0.5)
    assert 0.5 <= waited < 5


def test_it_sends_the_host_header_it_is_given(server):
    seen = []
    original = SlowThenFast.do_GET

    def do_get(handler):
        seen.append(handler.headers.get("Host"))
        original(handler)

    SlowThenFast.do_GET = do_get
    try:
        SlowThenFast.fast_from = 0.0
        url = f"http://127.0.0.1:{server.server_port}/healthz"
        wrk.wait_until_drained(url, {"Host": "127.0.0.1:8080"})
    finally:
        SlowThenFast.do_GET = original
    assert set(seen) == {"127.0.0.1:8080"}


def test_it_refuses_an_address_that_is_not_this_machines():
    with pytest.raises(ValueError):
        wrk.wait_until_drained("http://192.0.2.10/healthz")
