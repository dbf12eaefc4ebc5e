"""gunicorn settings for the app and upload roles, all from the environment.

WEB_CONCURRENCY      worker processes (default 2)
GUNICORN_THREADS     threads per worker; above 1 uses the gthread worker (default 2)
GUNICORN_TIMEOUT     seconds a request may take before its worker is replaced (default 30)
GUNICORN_MAX_REQUESTS  recycle a worker after this many requests, 0 = never (default 2000)
GUNICORN_PRELOAD     load Django once in the master and fork (shares memory; default true)
GUNICORN_ACCESS_LOG  log each request with the proxy's request id (default true)
EXTAGRAM_TRUSTED_PROXIES  addresses whose X-Forwarded-* headers are honoured
"""

import os


def _int(name, default):
    return int(os.environ.get(name, default))


def _bool(name, default):
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
preload_app = _bool("GUNICORN_PRELOAD", "true")
# heartbeat files in memory: the root filesystem is read-only
worker_tmp_dir = "/dev/shm"

# The proxy (and only the proxy) may tell us the client's scheme; Django applies the
# same trust list to the other forwarded headers.
forwarded_allow_ips = os.environ.get("EXTAGRAM_TRUSTED_PROXIES", "127.0.0.1") or "127.0.0.1"

errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = "-" if _bool("GUNICORN_ACCESS_LOG", "true") else None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'


# A replica can die at any moment (a crash, an OOM kill, `docker kill`). gunicorn writes
# a response's status line and headers, then its body, in two writes; dying between them
# leaves the proxy with headers and no body, a truncated response it can no longer retry
# on the other replica. Sending the headers together with the first body bytes makes a
# buffered Django response one write: the proxy gets all of it or nothing, and on nothing
# it retries the other replica (proxy_next_upstream).
from gunicorn.http import wsgi as _wsgi  # noqa: E402


class AtomicResponse(_wsgi.Response):
    _held_headers = None

    def send_headers(self):
        if self.headers_sent or self.chunked:
            return super().send_headers()
        lines = self.default_headers()
        lines.extend(f"{name}: {value}\r\n" for name, value in self.headers)
        self._held_headers = ("".join(lines) + "\r\n").encode("latin-1")
        self.headers_sent = True

    def _flush_headers(self):
        if self._held_headers is not None:
            held, self._held_headers = self._held_headers, None
            self.sock.sendall(held)

    def _emit_body(self, data):
        if self._held_headers is not None and not self.chunked:
            data, self._held_headers = self._held_headers + data, None
        self._flush_headers()
        super()._emit_body(data)

    def sendfile(self, respiter):
        # sendfile() writes the file straight from the kernel: headers must go first.
        if not self.headers_sent:
            self.send_headers()
        self._flush_headers()
        return super().sendfile(respiter)

    def close(self):
        if not self.headers_sent:
            self.send_headers()
        self._flush_headers()
        super().close()


_wsgi.Response = AtomicResponse


# On SIGTERM (a deploy or scale-down stopping this replica) a gthread worker stops
# accepting but keeps its listening socket open until its requests in flight finish. The
# kernel meanwhile still completes new connections from the proxy into the backlog, and
# resets them when the socket finally closes: a POST sent on one of them is lost (the proxy
# may not resend it). Closing the listener as soon as accepting stops makes new connections
# fail to connect instead, which the proxy retries on another replica, POSTs included.
from gunicorn.workers import gthread as _gthread  # noqa: E402

_stop_accepting = _gthread.ThreadWorker.set_accept_enabled


def _set_accept_enabled(self, enabled):
    _stop_accepting(self, enabled)
    if not enabled and not self.alive:
        for listener in self.sockets:
            listener.close()


_gthread.ThreadWorker.set_accept_enabled = _set_accept_enabled
