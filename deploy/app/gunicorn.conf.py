"""gunicorn settings for the app and upload roles, all from the environment.

WEB_CONCURRENCY      worker processes (default 2)
GUNICORN_THREADS     threads per worker (default 2); always our gthread worker, below
GUNICORN_TIMEOUT     seconds a worker may miss its heartbeat before the master replaces it
                     (default 30); a long request does not stop a gthread worker's heartbeat:
                     the proxy's proxy_read_timeout bounds how long a client waits
GUNICORN_GRACEFUL_TIMEOUT  seconds a stopping replica's requests in flight get (default 20)
GUNICORN_LAME_DUCK_SECONDS  seconds a stopping replica keeps accepting before it drains
                     (default 0; the swarm stack sets 5: see DrainingThreadWorker)
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
timeout = _int("GUNICORN_TIMEOUT", 30)
lame_duck_seconds = _int("GUNICORN_LAME_DUCK_SECONDS", 0)
# the master kills workers graceful_timeout after SIGTERM: the lame-duck period comes first
graceful_timeout = lame_duck_seconds + _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
# gunicorn's limits on the request line and header fields sit above the proxy's, so that the
# proxy is the one that refuses, with the site's pages (only the proxy reaches this server).
# gunicorn answered with its own bare pages: a pasted 5,000-character search link (its
# default line, 4,094 bytes: 414) and, over HTTP/2, where nginx takes a :path of up to 8 KB
# encoded (12,500 characters were measured to pass), a longer link (its largest line,
# 8,190: 414); a request with over ~90 header fields (its default 100: 431); over HTTP/2 a
# browser's cookies, sent as separate fields and joined by the proxy into one Cookie line
# of up to ~32 KB (its field default 8,190: 431). The proxy bounds all of these: a header
# section over large_client_header_buffers (4 x 8 KB, also nginx's HTTP/2 header list
# limit) is refused.
limit_request_line = 0  # none of its own (0: gunicorn reads up to 1 MB)
limit_request_fields = 32768  # gunicorn's largest
limit_request_field_size = 65536
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
preload_app = _bool("GUNICORN_PRELOAD", "true")
# heartbeat files in memory: the root filesystem is read-only
worker_tmp_dir = "/dev/shm"
# gunicorn >= 25.1 opens a control socket for `gunicornc` by default, in ~/.gunicorn/: on
# the read-only root filesystem that logged an ERROR at every start. Nothing here uses it.
control_socket_disable = True

# The proxy (and only the proxy) may tell us the client's scheme; Django applies the
# same trust list to the other forwarded headers.
forwarded_allow_ips = os.environ.get("EXTAGRAM_TRUSTED_PROXIES", "127.0.0.1") or "127.0.0.1"

errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = "-" if _bool("GUNICORN_ACCESS_LOG", "true") else None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'


# --------------------------------------------------------------------------- the worker
# Behaviours gunicorn does not have (checked against the newest release, 27.0.1):
#
# 1. A replica can die at any moment (a crash, an OOM kill). gunicorn writes a response's
#    status line and headers, then its body, in two writes; dying between them leaves the
#    proxy with headers and no body, a truncated response it can no longer retry on the
#    other replica. AtomicResponse sends the headers together with the first body bytes,
#    so a buffered Django response is one write: the proxy gets all of it or nothing, and
#    on nothing it retries the other replica (proxy_next_upstream).
# 2. On SIGTERM (a deploy or scale-down stopping this replica) a gthread worker stops
#    accepting but keeps its listening socket open until its requests in flight finish
#    (27.0.1: set_accept_enabled(False) only unregisters it; run() closes it at the end).
#    The kernel meanwhile still completes new connections from the proxy into the backlog
#    and resets them when the socket finally closes: a POST sent on one is lost (the proxy
#    may not resend it). DrainingThreadWorker closes the listener as soon as accepting
#    stops, so new connections fail to connect, which the proxy retries elsewhere.
# 3. A load balancer that learns of a stopping replica by DNS may still send to it for
#    as long as it caches the name's addresses. Docker Swarm takes a task out of its DNS,
#    waits 2 s, then sends SIGTERM (moby, daemon/cluster/executor/container/controller.go:
#    Shutdown(), defaultGossipConvergeDelay); our proxy caches addresses 5 s (resolver
#    valid=5s). A listener closed at SIGTERM is refused for up to 3 s more: retried on
#    the other cached addresses, but when every cached address is a stopping replica (a
#    rolling update's second step) the request fails with a 503. GUNICORN_LAME_DUCK_SECONDS
#    (the "lame duck" state of Google's SRE book, ch. 20) keeps accepting that long after
#    SIGTERM before draining, so no proxy is ever refused by a replica it still knows.
# 4. A SIGTERM that reaches a worker between its fork and its own signal handlers (a deploy
#    stopping the replica while a worker boots: at start, or when `max_requests` replaces
#    one) ran the master's handler, inherited by the fork, which only queues the signal in
#    the child's copy of the master's queue: lost. The worker went on serving until the
#    master SIGKILLed it at graceful_timeout (22 s later here), cutting its requests in
#    flight. Seen in 2 of 15 starts stopped at once on a loaded machine. pre_fork blocks
#    the worker's signals across the fork and DrainingThreadWorker.init_signals unblocks
#    them once its handlers are in place, so the kernel holds such a signal until then.
#
# They lean on gunicorn internals, so check_gunicorn() refuses to start on a major
# version they were not tested with (tests/deploy/test_gunicorn_conf.py): an upgrade
# fails loudly at start instead of silently losing either behaviour.
import signal  # noqa: E402
import threading  # noqa: E402

import gunicorn  # noqa: E402
from gunicorn.http import wsgi as _wsgi  # noqa: E402
from gunicorn.workers.gthread import ThreadWorker  # noqa: E402

TESTED_MAJOR_VERSIONS = (27,)


def check_gunicorn(version=None):
    """Raise RuntimeError unless gunicorn's `version` (default: the installed one) is a
    major version the worker below was tested with and has the internals it relies on."""
    version = version or gunicorn.__version__
    major = int(version.split(".")[0])
    needed = [
        (ThreadWorker, "set_accept_enabled"),
        (ThreadWorker, "handle_exit"),
        (ThreadWorker, "init_process"),
        (ThreadWorker, "init_signals"),
        (_wsgi.Response, "send_headers"),
        (_wsgi.Response, "_emit_body"),
        (_wsgi.Response, "default_headers"),
    ]
    missing = [f"{cls.__name__}.{name}" for cls, name in needed if not hasattr(cls, name)]
    if major not in TESTED_MAJOR_VERSIONS or missing:
        raise RuntimeError(
            f"deploy/app/gunicorn.conf.py: its worker is tested with gunicorn "
            f"{', '.join(map(str, TESTED_MAJOR_VERSIONS))}.x, this is {version}"
            + (f" (missing {', '.join(missing)})" if missing else "")
            + ": check whether upstream now closes the listener on SIGTERM and sends a "
            "buffered response in one write, adapt the worker, run "
            "tests/deploy/test_gunicorn_conf.py, then add the version to "
            "TESTED_MAJOR_VERSIONS"
        )


class AtomicResponse(_wsgi.Response):
    """A gunicorn HTTP/1 response whose headers leave with the first body bytes."""

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


class DrainingThreadWorker(ThreadWorker):
    """gunicorn's gthread worker that, on SIGTERM, keeps serving for lame_duck_seconds,
    then closes its listener as soon as it stops accepting for good; it answers HTTP/1
    with AtomicResponse."""

    _lame_duck = None

    def handle_exit(self, sig, frame):
        # a signal handler: it only starts the timer; a second SIGTERM changes nothing
        if self._lame_duck is not None:
            return
        if lame_duck_seconds <= 0:
            super().handle_exit(sig, frame)
            return
        self._lame_duck = threading.Timer(lame_duck_seconds, super().handle_exit, (sig, frame))
        self._lame_duck.daemon = True
        self._lame_duck.start()

    def init_signals(self):
        super().init_signals()
        # blocked by pre_fork before this process was forked: one that came meanwhile is
        # delivered now, to the handlers just installed
        _unblock_worker_signals()

    def init_process(self):
        # wsgi.create() takes a response class only from gunicorn's HTTP/2 path; HTTP/1
        # uses the module's Response, so the worker sets it, in its own process only.
        _wsgi.Response = AtomicResponse
        super().init_process()

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()


# The signals gunicorn's master sends its workers (a graceful or quick stop, a timeout's
# abort, log reopening, a scale-down), each handled by the worker's own handler
# (gunicorn.workers.base.Worker.init_signals).
WORKER_SIGNALS = {
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGABRT,
    signal.SIGUSR1,
    signal.SIGWINCH,
}


def _unblock_worker_signals():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, WORKER_SIGNALS)


# the master (which forked with them blocked, pre_fork below) takes them again at once
os.register_at_fork(after_in_parent=_unblock_worker_signals)


def pre_fork(server, worker):
    """Block WORKER_SIGNALS for the fork of `worker` (the new worker unblocks them in
    DrainingThreadWorker.init_signals, after installing its handlers; the master right after
    the fork), and freeze what the master has loaded (Django, the apps, the URLconf:
    preload_app) so that the worker keeps sharing those pages with the master.

    Without the freeze the worker's first garbage collections write to the header of every
    object they scan, and copy-on-write gives the worker a private copy of most of the
    master's heap. Measured on the app image (docs/performance.md, "Memory of the app tier"): a
    worker's private memory after requests 34 -> 19 MiB. This is the use the `gc` docs
    give gc.freeze(): "freeze before fork() in the parent to avoid copy-on-write"."""
    import gc

    gc.collect()
    gc.freeze()
    signal.pthread_sigmask(signal.SIG_BLOCK, WORKER_SIGNALS)


check_gunicorn()
worker_class = DrainingThreadWorker
