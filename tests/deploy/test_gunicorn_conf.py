"""The app image's gunicorn settings: responses leave in one write."""

import runpy
import socket
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

CONF = Path(__file__).resolve().parents[2] / "deploy" / "app" / "gunicorn.conf.py"


class RecordingSocket:
    def __init__(self, sock):
        self.sock = sock
        self.writes = []

    def sendall(self, data):
        self.writes.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


@pytest.fixture
def response_to(monkeypatch):
    original = wsgi.Response
    runpy.run_path(str(CONF))
    patched = wsgi.Response
    monkeypatch.setattr(wsgi, "Response", original)  # undo the module-level patch afterwards
    pairs = []

    def make(raw_request):
        server, client = socket.socketpair()
        pairs.append((server, client))
        client.sendall(raw_request)
        cfg = Config()
        request = next(iter(RequestParser(cfg, server, ("127.0.0.1", 1))))
        recorder = RecordingSocket(server)
        response = patched(request, recorder, cfg)
        return response, recorder

    yield make
    for server, client in pairs:
        server.close()
        client.close()


def test_a_buffered_response_is_sent_in_a_single_write(response_to):
    response, sock = response_to(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    response.start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", "5")])
    response.write(b"hello")
    response.close()
    assert len(sock.writes) == 1
    assert sock.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert sock.writes[0].endswith(b"\r\n\r\nhello")


def test_a_response_without_a_body_still_sends_its_headers(response_to):
    response, sock = response_to(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    response.start_response("302 Found", [("Location", "/"), ("Content-Length", "0")])
    response.close()
    assert b"".join(sock.writes).startswith(b"HTTP/1.1 302 Found\r\n")
