"""A tiny local HTTP server for the bench's tests: it answers every GET with 200 "ok" and
records what arrived, so a test can check what wrk and the bench send (never timed)."""

import contextlib
import http.server
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Seen:
    """The requests a recording server received, in order, and how it answers: after
    `delay` seconds while time.monotonic() < `slow_until` (a queue still draining)."""

    # (path, [(header name lowercased, value), ...] as they arrived: repeats kept)
    requests: list = field(default_factory=list)
    slow_until: float = 0.0
    delay: float = 0.0

    @property
    def paths(self):
        return [path for path, _ in self.requests]

    def header(self, name):
        """Header `name` (any case) of each request, None where absent; a header sent more
        than once reads as its values joined by ", " (HTTP's list rule)."""
        found = []
        for _, headers in self.requests:
            values = [value for key, value in headers if key == name.lower()]
            found.append(", ".join(values) if values else None)
        return found


@contextlib.contextmanager
def recording_server():
    """Serve on 127.0.0.1, a free port, in a thread; yields (base URL without a slash at
    the end, Seen). Stopped and closed on leaving."""
    seen = Seen()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            headers = [(name.lower(), value) for name, value in self.headers.items()]
            seen.requests.append((self.path, headers))
            if time.monotonic() < seen.slow_until:
                time.sleep(seen.delay)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
