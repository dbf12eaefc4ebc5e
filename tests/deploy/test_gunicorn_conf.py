"""The app image's gunicorn settings: responses leave in one write, a stopping replica
refuses new connections at once, a stop while a worker boots is not lost, an untested
gunicorn refuses to start, a clean start logs no error."""

import http.client
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

CONF = Path(__file__).resolve().parents[2] / "deploy" / "app" / "gunicorn.conf.py"


@pytest.fixture(scope="module")
def conf():
    """The settings module's names (loading it patches nothing)."""
    return runpy.run_path(str(CONF))


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
def response_to(conf):
    pairs = []

    def make(raw_request):
        server, client = socket.socketpair()
        pairs.append((server, client))
        client.sendall(raw_request)
        cfg = Config()
        request = next(iter(RequestParser(cfg, server, ("127.0.0.1", 1))))
        recorder = RecordingSocket(server)
        response = conf["AtomicResponse"](request, recorder, cfg)
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


SLOW_APP = """
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(3)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(tmp_path, config=CONF, **env):
    """gunicorn with the image's settings (or those of `config`) on a free loopback port,
    serving SLOW_APP; (the process, its port) once the port takes connections."""
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    port = _free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "GUNICORN_ACCESS_LOG": "false",
        **env,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(config),
            "--chdir",
            str(tmp_path),
            "slowapp:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, port


def slow_request_in_background(port):
    """Start GET /slow (3 s) in a thread; returns (thread, {"status": ...} once answered)."""
    answer = {}

    def slow_request():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        connection.request("GET", "/slow")
        answer["status"] = connection.getresponse().status

    thread = threading.Thread(target=slow_request)
    thread.start()
    return thread, answer


def test_a_stopping_replica_refuses_new_connections_but_finishes_requests_in_flight(tmp_path):
    server, port = start_gunicorn(tmp_path)
    try:
        thread, in_flight = slow_request_in_background(port)
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        thread.join(timeout=20)
        assert in_flight.get("status") == 200
    finally:
        server.kill()
        server.communicate()


def test_a_lame_duck_replica_keeps_serving_new_connections_then_refuses_them(tmp_path):
    server, port = start_gunicorn(tmp_path, GUNICORN_LAME_DUCK_SECONDS="2")
    try:
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # sent during the lame-duck period: it outlives the period and is still answered
        thread, in_flight = slow_request_in_background(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        # the worker closes its listener at its first loop after the period (its poll
        # waits up to 1 s; later on a busy machine): wait for the refusal, bounded
        refused_at = None
        while refused_at is None:
            assert time.monotonic() < stopped_at + 15, "still accepting 15 s after SIGTERM"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                time.sleep(0.1)
            except ConnectionRefusedError:
                refused_at = time.monotonic()
        assert refused_at - stopped_at >= 2.0  # not before the lame-duck period ended
        thread.join(timeout=20)
        assert in_flight.get("status") == 200
        assert server.wait(timeout=20) == 0
    finally:
        server.kill()
        server.communicate()


SLOW_BOOT_CONF = """
exec(compile(open({conf!r}).read(), {conf!r}, "exec"))


def post_fork(server, worker):
    # a worker that takes a while between its fork and its own signal handlers
    import time

    time.sleep(1.5)
"""


def test_a_sigterm_while_a_worker_boots_stops_it_without_waiting_for_the_kill(tmp_path):
    # gunicorn's master handler, inherited by the fork, swallowed it: the worker served on
    # until the master SIGKILLed it graceful_timeout (20 s) later
    slow_boot = tmp_path / "slow_boot.conf.py"
    slow_boot.write_text(SLOW_BOOT_CONF.format(conf=str(CONF)))
    server, _port = start_gunicorn(tmp_path, config=slow_boot)
    try:
        log = []
        for line in server.stderr:
            log.append(line)
            if "Booting worker" in line:
                break
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)  # the worker is still in post_fork
        assert server.wait(timeout=30) == 0
        assert time.monotonic() - stopped_at < 10, "".join(log)
    finally:
        server.kill()
        server.communicate()


def test_a_clean_start_logs_no_error_and_writes_nothing_in_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)  # read-only, like the container's root filesystem
    server, port = start_gunicorn(tmp_path, HOME=str(home), XDG_RUNTIME_DIR="")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _out, log = server.communicate(timeout=30)
    assert "Booting worker" in log
    assert "[ERROR]" not in log, log
    assert list(home.iterdir()) == []


def test_it_refuses_a_gunicorn_it_was_not_tested_with(conf):
    conf["check_gunicorn"]()  # the pinned one passes
    with pytest.raises(RuntimeError, match=r"tested with gunicorn 27\.x, this is 28\.0\.0"):
        conf["check_gunicorn"]("28.0.0")


def test_the_worker_is_a_subclass_not_a_patch(conf):
    from gunicorn.http import wsgi
    from gunicorn.workers.gthread import ThreadWorker

    assert issubclass(conf["worker_class"], ThreadWorker)
    assert wsgi.Response is not conf["AtomicResponse"]  # loading the settings patched nothing
