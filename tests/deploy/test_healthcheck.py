"""The app image's health probe (deploy/app/healthcheck.sh) against a real local server."""

import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[2] / "deploy" / "app" / "healthcheck.sh"


class Handler(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):  # noqa: N802 -- http.server's naming
        Handler.seen.append((self.path, self.headers.get("Host")))
        status = {"/healthz": 200, "/readyz": 503}.get(self.path, 404)
        if self.path == "/slow":
            threading.Event().wait(3)
            status = 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def probe(port, *args, **env):
    environment = {"PATH": os.environ["PATH"], "EXTAGRAM_PORT_INTERNAL": str(port), **env}
    return subprocess.run(
        ["bash", str(PROBE), *args], env=environment, capture_output=True, text=True, timeout=10
    )


def test_it_passes_when_the_app_answers_200(server):
    assert probe(server).returncode == 0
    assert Handler.seen == [("/healthz", "localhost")]


def test_it_fails_on_any_other_status_and_says_which(server):
    result = probe(server, "/readyz")
    assert result.returncode == 1
    assert "503" in result.stderr


def test_it_fails_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    result = probe(free)
    assert result.returncode == 1
    assert "nothing listens" in result.stderr


def test_it_fails_when_the_answer_takes_too_long(server):
    result = probe(server, "/slow", HEALTHCHECK_TIMEOUT="0.5")
    assert result.returncode == 1
    assert "no answer" in result.stderr


def test_it_sends_the_first_concrete_allowed_host(server):
    assert probe(server, ALLOWED_HOSTS=" *, .example.org ,other.test").returncode == 0
    assert Handler.seen == [("/healthz", "example.org")]
