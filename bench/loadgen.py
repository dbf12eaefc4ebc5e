"""Extagram load driver: a steady mix of simulated users against one base URL.

Each simulated user is a thread with its own keep-alive HTTP connection and cookie jar.
It signs up with a unique username, then loops: pick a request kind by weight (feed,
post page, profile, like, comment, upload, photo), send it, record status and latency. Post ids
and usernames are discovered from the HTML it reads, like a browser would.

Bounded in time (--duration) AND count (--max-requests); refuses any base URL whose host
is not loopback unless --allow-host names it. Needs only the standard library, plus
Pillow when uploads are in the mix.

    python bench/loadgen.py --base-url http://127.0.0.1:8000 --users 4 --duration 20

Python API, for drills (run a load, mark phases while it runs, get a table per phase):

    from bench.loadgen import LoadDriver

    driver = LoadDriver("http://127.0.0.1:8080", users=4, rate=20, duration=300,
                        phase="before").start()
    time.sleep(10)
    driver.mark("during")
    ...  # the event under test
    driver.mark("after")
    time.sleep(10)
    summary = driver.stop()
    print(summary.table(fmt="markdown"))
    assert summary.errors == 0
    acknowledged = [u.post_id for u in summary.uploads]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gzip
import http.client
import ipaddress
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import zlib
from collections import Counter
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode, urlsplit

from extagram_ops.throwaway import encode_multipart

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_MIX = {"feed": 50, "post": 20, "profile": 10, "like": 10, "comment": 5, "upload": 5}
# "photo": one photo file of those the pages read named (an <img>'s src), as a browser
# fetches it; weighs 0 unless a mix names it
MIX_KINDS = (*DEFAULT_MIX, "photo")
READ_KINDS = ("feed", "post", "profile", "photo")
WRITE_KINDS = ("like", "comment", "upload")
# Requests a user makes for itself, outside the mix (recorded like any other).
SETUP_KINDS = ("signup_form", "signup", "login_form", "login")
KIND_ORDER = MIX_KINDS + SETUP_KINDS
UPLOAD_SIZES = ("small", "12mp")
DEFAULT_PHASE = "run"
USER_AGENT = "extagram-loadgen/1"

OK = "ok"
ERROR = "error"
RATE_LIMITED = "rate_limited"

_POST_RE = re.compile(r"/p/(\d+)/")
_USER_RE = re.compile(r"""/u/([^/"'?#<>\s]+)/""")
_NEXT_RE = re.compile(r"""\?before=(\d+)""")
_PHOTO_RE = re.compile(r"""<img[^>]*\ssrc=["'](/media/[^"'?#<>\s]+)["']""")
_CSRF_RE = re.compile(r"""name=["']csrfmiddlewaretoken["']\s+value=["']([^"']+)["']""")
_KNOWN_CAP = 500


class TargetRefused(ValueError):
    """The base URL is not a loopback address and was not explicitly allowed."""


# --------------------------------------------------------------------------- target checks


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def check_target(base_url: str, allow_hosts=(), resolve=None) -> list[tuple] | None:
    """Refuse a base URL whose host is not loopback (127.0.0.0/8, ::1), unless allowed.

    Returns the vetted (family, sockaddr) list that connections are pinned to, or None
    for a host named in allow_hosts (resolved normally at connect time, so a container
    network's DNS can move it). Raises TargetRefused; sends no traffic (a host name is
    resolved, an IP literal is not).
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"{base_url!r}: the base URL must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise TargetRefused(f"{base_url!r}: the base URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused(f"{base_url!r}: {error}") from None
    if host.lower() in {h.lower().strip("[]") for h in allow_hosts}:
        return None
    hint = f"; pass --allow-host {host} (allow_hosts=[{host!r}]) if it is meant"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        literal = True
    except ValueError:
        literal = False
    if literal:
        if not _is_loopback(host):
            raise TargetRefused(f"{host} is not a loopback address{hint}")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sockaddr = (host, port, 0, 0) if family == socket.AF_INET6 else (host, port)
        return [(family, sockaddr)]
    resolve = resolve or socket.getaddrinfo
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise TargetRefused(f"{host} does not resolve ({error}){hint}") from None
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if not _is_loopback(sockaddr[0]):
            raise TargetRefused(f"{host} resolves to {sockaddr[0]}, not a loopback address{hint}")
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise TargetRefused(f"{host} resolves to no address{hint}")
    return addresses


# --------------------------------------------------------------------------- options


def parse_mix(text: str | dict) -> dict[str, float]:
    """'feed=50,post=20,...' -> {'feed': 50.0, ...}; kinds left out weigh 0."""
    if isinstance(text, dict):
        items = list(text.items())
    else:
        items = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, weight = part.partition("=")
            if not sep:
                raise ValueError(f"mix entry {part!r} is not KIND=WEIGHT")
            items.append((name.strip(), weight.strip()))
    mix = {}
    for name, weight in items:
        if name not in MIX_KINDS:
            raise ValueError(f"unknown request kind {name!r} (kinds: {', '.join(MIX_KINDS)})")
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"weight of {name!r} is not a number: {weight!r}") from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"weight of {name!r} must be a finite number >= 0")
        mix[name] = value
    if not any(mix.values()):
        raise ValueError("the mix has no kind with a positive weight")
    return {kind: mix.get(kind, 0.0) for kind in MIX_KINDS}


_jpeg_cache: dict[str, bytes] = {}
_jpeg_lock = threading.Lock()


def jpeg_for(size: str) -> bytes:
    """A generated JPEG (cached per size): 'small' ~105 KB 800x600, '12mp' ~3.5 MB 4000x3000.

    Smooth colour blobs plus grain, so it neither compresses away nor looks like pure noise.
    """
    if size not in UPLOAD_SIZES:
        raise ValueError(f"upload size must be one of {', '.join(UPLOAD_SIZES)}")
    with _jpeg_lock:
        if size not in _jpeg_cache:
            from extagram.testing.images import camera_like_jpeg

            width, height, alpha = (800, 600, 0.2) if size == "small" else (4000, 3000, 0.3)
            seed = f"extagram-loadgen-{size}"
            _jpeg_cache[size] = camera_like_jpeg(width, height, seed=seed, alpha=alpha)
        return _jpeg_cache[size]


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(slots=True)
class Record:
    """One request: when it started (seconds since the driver started), what, outcome."""

    seq: int
    t: float
    phase: str
    user: str
    kind: str
    method: str
    path: str
    status: int | None
    outcome: str  # ok | error | rate_limited
    error: str | None  # "HTTP 503", an exception class name, "redirect to login", ...
    latency_ms: float
    bytes: int = 0
    retried: bool = False  # resent once on a fresh connection after a stale keep-alive
    post_id: int | None = None  # uploads: the new post
    cache: str | None = None  # the proxy's X-Cache (HIT, MISS, ...): where a file came from


@dataclasses.dataclass(slots=True)
class Upload:
    """An acknowledged (2xx/3xx) upload: its post must exist afterwards. `t` is when its
    request started and `acked_t` when its answer came (seconds since the driver started):
    an upload started before an event may be acknowledged, and committed, after it."""

    post_id: int | None
    user: str
    phase: str
    t: float
    acked_t: float
    status: int


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Summary:
    """Everything a run recorded, and the views of it a drill needs.

    Percentiles are over every request of the group, errors included (a timeout is a slow
    request too), in milliseconds, nearest-rank.
    """

    def __init__(
        self, records, marks, config, started_at, elapsed, stop_reason, unfinished=0, crashes=()
    ):
        self.records: list[Record] = list(records)
        self.marks: list[tuple[str, float]] = list(marks)
        self.config: dict = dict(config)
        self.started_at: str = started_at
        self.elapsed: float = elapsed
        self.stop_reason: str = stop_reason
        self.unfinished: int = unfinished  # threads still inside a request at stop()
        self.crashes: list[str] = list(crashes)  # user threads that died of a driver bug
        self.uploads: list[Upload] = [
            Upload(r.post_id, r.user, r.phase, r.t, r.t + r.latency_ms / 1000, r.status)
            for r in self.records
            if r.kind == "upload" and r.outcome == OK
        ]

    # ---- selections and counts
    def select(self, kind=None, phase=None) -> list[Record]:
        return [
            r
            for r in self.records
            if (kind is None or r.kind == kind) and (phase is None or r.phase == phase)
        ]

    @property
    def phases(self) -> list[str]:
        order = [name for name, _t in self.marks]
        order += [r.phase for r in self.records]
        return list(dict.fromkeys(order))

    @property
    def kinds(self) -> list[str]:
        seen = {r.kind for r in self.records}
        return [k for k in KIND_ORDER if k in seen]

    @property
    def total(self) -> int:
        return len(self.records)

    @property
    def errors(self) -> int:
        return sum(r.outcome == ERROR for r in self.records)

    @property
    def rate_limited(self) -> int:
        return sum(r.outcome == RATE_LIMITED for r in self.records)

    @property
    def retried(self) -> int:
        return sum(r.retried for r in self.records)

    def by_kind(self, phase=None) -> dict[str, int]:
        counts = Counter(r.kind for r in self.select(phase=phase))
        return {k: counts[k] for k in KIND_ORDER if counts[k]}

    def errors_by_kind(self, phase=None) -> dict[str, dict[str, int]]:
        """{kind: {"HTTP 502": 3, "ConnectionRefusedError": 1}} (rate limits not included)."""
        out: dict[str, Counter] = {}
        for r in self.select(phase=phase):
            if r.outcome == ERROR:
                out.setdefault(r.kind, Counter())[r.error or "?"] += 1
        return {k: dict(out[k].most_common()) for k in KIND_ORDER if k in out}

    def rate_limited_by_kind(self, phase=None) -> dict[str, int]:
        counts = Counter(r.kind for r in self.select(phase=phase) if r.outcome == RATE_LIMITED)
        return {k: counts[k] for k in KIND_ORDER if counts[k]}

    def percentiles(self, kind=None, phase=None) -> dict[str, float | None]:
        values = sorted(r.latency_ms for r in self.select(kind, phase))
        return {f"p{p}": percentile(values, p) for p in (50, 95, 99)}

    def row(self, kind=None, phase=None) -> dict:
        group = self.select(kind, phase)
        values = sorted(r.latency_ms for r in group)
        return {
            "phase": phase or "all",
            "kind": kind or "all",
            "count": len(group),
            "errors": sum(r.outcome == ERROR for r in group),
            "rate_limited": sum(r.outcome == RATE_LIMITED for r in group),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
        }

    def rows(self) -> list[dict]:
        """Phase x kind rows, an 'all' kind row per phase, then (several phases) totals."""
        phases = self.phases
        groups = [*phases, None] if len(phases) > 1 else [None]
        out = []
        for phase in groups:
            kinds = self.kinds if phase is None else list(self.by_kind(phase))
            out += [self.row(kind, phase) for kind in kinds]
            out.append(self.row(None, phase))
        return out

    # ---- presentation
    def table(self, fmt: str = "text") -> str:
        """The phase x kind table: 'text' (fixed width) or 'markdown'."""
        header = ["phase", "kind", "count", "errors", "429", "p50 ms", "p95 ms", "p99 ms"]
        lines = []
        for row in self.rows():
            cells = [row["phase"], row["kind"], str(row["count"]), str(row["errors"])]
            cells.append(str(row["rate_limited"]))
            cells += ["-" if row[p] is None else f"{row[p]:.1f}" for p in ("p50", "p95", "p99")]
            lines.append(cells)
        if fmt == "markdown":
            out = ["| " + " | ".join(header) + " |"]
            out.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
            out += ["| " + " | ".join(cells) + " |" for cells in lines]
            return "\n".join(out)
        if fmt != "text":
            raise ValueError("fmt must be 'text' or 'markdown'")
        widths = [max(len(c[i]) for c in [header, *lines]) for i in range(len(header))]

        def fmt_line(cells):
            left = [cells[i].ljust(widths[i]) for i in (0, 1)]
            right = [cells[i].rjust(widths[i]) for i in range(2, len(cells))]
            return "  ".join(left + right).rstrip()

        return "\n".join([fmt_line(header), *map(fmt_line, lines)])

    def headline(self) -> str:
        rate = self.total / self.elapsed if self.elapsed > 0 else 0.0
        cfg = self.config
        return (
            f"{cfg.get('base_url')}: {cfg.get('users')} users, {self.elapsed:.1f} s "
            f"(stopped: {self.stop_reason}), {self.total} requests ({rate:.1f}/s), "
            f"{self.errors} errors, {self.rate_limited} rate-limited, "
            f"{len(self.uploads)} uploads acknowledged"
        )

    def report(self, fmt: str = "text") -> str:
        """Headline, table, errors by kind: what the CLI prints at the end."""
        parts = [self.headline(), "", self.table(fmt), ""]
        errors = self.errors_by_kind()
        if errors:
            parts.append("Errors by kind:")
            for kind, labels in errors.items():
                listed = ", ".join(f"{label} x{n}" for label, n in labels.items())
                parts.append(f"  {kind}: {listed}")
        else:
            parts.append("Errors by kind: none")
        limited = self.rate_limited_by_kind()
        if limited:
            listed = ", ".join(f"{k} x{n}" for k, n in limited.items())
            parts.append(f"Rate limited (429, not counted as errors): {listed}")
        if self.retried:
            parts.append(f"Resent once after a stale keep-alive connection: {self.retried}")
        if self.unfinished:
            parts.append(f"Requests still in flight at stop (not recorded): {self.unfinished}")
        for crash in self.crashes:
            parts.append(f"Simulated user crashed (a load driver bug): {crash}")
        return "\n".join(parts)

    def to_dict(self, records: bool = True) -> dict:
        data = {
            "config": self.config,
            "started_at": self.started_at,
            "elapsed_s": round(self.elapsed, 3),
            "stop_reason": self.stop_reason,
            "unfinished": self.unfinished,
            "crashes": self.crashes,
            "marks": [{"phase": p, "t": round(t, 4)} for p, t in self.marks],
            "summary": {
                "total": self.total,
                "errors": self.errors,
                "rate_limited": self.rate_limited,
                "retried": self.retried,
                "by_kind": self.by_kind(),
                "errors_by_kind": self.errors_by_kind(),
                "rate_limited_by_kind": self.rate_limited_by_kind(),
                "rows": self.rows(),
            },
            "uploads": [dataclasses.asdict(u) for u in self.uploads],
        }
        if records:
            data["records"] = [dataclasses.asdict(r) for r in self.records]
        return data

    def write_json(self, path, records: bool = True) -> None:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(self.to_dict(records), out, indent=1)
            out.write("\n")


# --------------------------------------------------------------------------- HTTP client


class _Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def location_path(self) -> str:
        return urlsplit(self.headers.get("Location", "")).path

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Client:
    """One user's keep-alive connection and cookie jar (single host, so name -> value)."""

    def __init__(self, driver: LoadDriver):
        self.driver = driver
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.conn_used = False

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.conn_used = False

    def _connection(self):
        if self.conn is None:
            d = self.driver
            if d.scheme == "https":
                context = ssl.create_default_context()
                if d.insecure:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                conn = http.client.HTTPSConnection(
                    d.host, d.port, timeout=d.timeout, context=context
                )
            else:
                conn = http.client.HTTPConnection(d.host, d.port, timeout=d.timeout)
            if d.addresses is not None:
                conn._create_connection = d.pinned_connect  # connect only where vetted
            self.conn = conn
            self.conn_used = False
        return self.conn

    def exchange(self, method, path, body=None, headers=None):
        """Send one request, read the whole response. Returns (_Response, retried)."""
        d = self.driver
        all_headers = {
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            "Accept-Encoding": "gzip",
            "Accept-Language": "en",
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        url = d.prefix + path
        for attempt in (0, 1):
            conn = self._connection()
            reused = self.conn_used
            received = False
            try:
                conn.request(method, url, body=body, headers=all_headers)
                response = conn.getresponse()
                received = True
                data = response.read()
            except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
                # RemoteDisconnected is a ConnectionResetError. A keep-alive connection the
                # server closed while idle fails before any response: a browser resends
                # once on a fresh connection; so do we (and the record says so).
                self.close()
                if attempt == 0 and reused and not received:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            self.conn_used = True
            if response.will_close:
                self.close()
            self._store_cookies(response.headers.get_all("Set-Cookie") or [])
            encoding = response.headers.get("Content-Encoding", "").lower()
            if encoding == "gzip":
                data = gzip.decompress(data)
            elif encoding == "deflate":
                data = zlib.decompress(data)
            return _Response(response.status, response.headers, data), attempt > 0
        raise AssertionError("unreachable")

    def _store_cookies(self, values):
        for value in values:
            jar = SimpleCookie()
            try:
                jar.load(value)
            except CookieError:
                continue
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if expired or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


# --------------------------------------------------------------------------- simulated user


class _Stop(Exception):
    """The driver is stopping (time, count, or stop())."""


class _User:
    def __init__(self, driver: LoadDriver, index: int):
        self.driver = driver
        self.username = driver.username(index)
        self.password = driver.password
        self.rng = random.Random(f"{driver.seed}-{index}")
        self.client = _Client(driver)
        self.created = False
        self.logged_in = False
        self.next_auth_attempt = 0.0
        self.csrf: str | None = None
        self.posts: dict[int, None] = {}  # insertion-ordered set
        self.users: dict[str, None] = {}
        self.photos: dict[str, None] = {}
        self.feed_seen = False
        self.older_cursor: str | None = None
        self.serial = 0

    # ---- the loop
    def run(self):
        d = self.driver
        try:
            while not d.stopping:
                if not self.logged_in and time.monotonic() >= self.next_auth_attempt:
                    self.authenticate()
                    continue
                kind = self.choose()
                if kind is None:  # nothing to do signed out: wait for the next attempt
                    d.sleep(max(0.05, self.next_auth_attempt - time.monotonic()))
                    continue
                getattr(self, "do_" + kind)()
        except _Stop:
            pass
        finally:
            self.client.close()

    def choose(self) -> str | None:
        kinds = [k for k in MIX_KINDS if self.driver.mix[k] > 0]
        if not self.logged_in:
            kinds = [k for k in kinds if k in READ_KINDS]
            if not kinds:
                return None
        kind = self.rng.choices(kinds, [self.driver.mix[k] for k in kinds])[0]
        if kind == "photo" and not self.photos:
            kind = "feed"  # none seen yet: the page that names some first
        if kind in ("post", "like", "comment") and not self.posts:
            # Nothing known to open yet: read the feed first; an empty site needs a post.
            can_upload = self.logged_in and self.driver.mix["upload"] > 0
            kind = "upload" if self.feed_seen and can_upload else "feed"
        return kind

    # ---- one request through the driver
    def send(self, kind, method, path, body=None, headers=None, expect=None):
        return self.driver.send(self, kind, method, path, body, headers, expect)

    def learn(self, response: _Response | None):
        if response is None or not response.body:
            return
        ctype = response.headers.get("Content-Type", "")
        if "html" not in ctype:
            return
        html = response.text()
        for match in _POST_RE.finditer(html):
            self.posts[int(match.group(1))] = None
        for match in _USER_RE.finditer(html):
            self.users[match.group(1)] = None
        for match in _PHOTO_RE.finditer(html):
            self.photos[match.group(1)] = None
        for known in (self.posts, self.users, self.photos):
            while len(known) > _KNOWN_CAP:
                del known[next(iter(known))]
        token = _CSRF_RE.search(html)
        if token:
            self.csrf = token.group(1)

    def token(self) -> str:
        return self.csrf or self.client.cookies.get("csrftoken", "")

    def post_form(self, kind, path, fields, referer_path, expect):
        body = urlencode({**fields, "csrfmiddlewaretoken": self.token()}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": self.driver.base_url + referer_path,
        }
        return self.send(kind, "POST", path, body, headers, expect)

    # ---- setup: sign up (or log in again after losing the session)
    def authenticate(self):
        form_kind, kind, path = (
            ("login_form", "login", "/accounts/login/")
            if self.created
            else ("signup_form", "signup", "/accounts/signup/")
        )
        response, record = self.send(form_kind, "GET", path, expect="page")
        self.learn(response)
        if record.outcome == OK:
            if self.created:
                fields = {"login": self.username, "password": self.password}
            else:
                fields = {
                    "username": self.username,
                    "email": f"{self.username}@example.com",
                    "password1": self.password,
                    "password2": self.password,
                }
            response, record = self.post_form(kind, path, fields, path, expect="auth")
        if record.outcome == OK and record.kind == kind:
            self.created = self.logged_in = True
            self.csrf = None  # Django rotates the token at login
            return
        if record.kind == kind and record.status == 400:
            # A refused sign-up may mean the account exists (an earlier attempt's answer
            # was lost); a refused login may mean it does not. Try the other next time.
            self.created = not self.created
        # Refused or failed: retry later (a 429 says when), reading pages meanwhile.
        retry_after = 5.0
        if response is not None and record.status == 429:
            try:
                retry_after = float(response.headers.get("Retry-After", "30"))
            except ValueError:
                retry_after = 30.0
        self.next_auth_attempt = time.monotonic() + min(retry_after, 60.0)

    def session_lost(self):
        self.logged_in = False
        self.next_auth_attempt = 0.0

    # ---- the mix
    def pick_post(self) -> int:
        return self.rng.choice(list(self.posts))

    def do_feed(self):
        path = "/"
        if self.older_cursor and self.rng.random() < 0.25:
            path = f"/?before={self.older_cursor}"
        response, record = self.send("feed", "GET", path, expect="page")
        if record.outcome == OK:
            self.feed_seen = True
            self.learn(response)
            match = _NEXT_RE.search(response.text())
            self.older_cursor = match.group(1) if match else None

    def forget_if_gone(self, post, record):
        if record.status == 404:  # deleted meanwhile: still an error, but not asked again
            self.posts.pop(post, None)

    def do_post(self):
        post = self.pick_post()
        response, record = self.send("post", "GET", f"/p/{post}/", expect="page")
        self.forget_if_gone(post, record)
        self.learn(response)

    def do_profile(self):
        names = list(self.users) or ([self.username] if self.logged_in else [])
        if not names:
            return self.do_feed()
        response, _record = self.send(
            "profile", "GET", f"/u/{self.rng.choice(names)}/", expect="page"
        )
        self.learn(response)

    def do_photo(self):
        photo = self.rng.choice(list(self.photos))
        _response, record = self.send("photo", "GET", photo, expect="page")
        if record.status == 404:  # its post deleted meanwhile: not asked for again
            self.photos.pop(photo, None)

    def do_like(self):
        post = self.pick_post()
        _response, record = self.post_form(
            "like", f"/p/{post}/like/", {}, f"/p/{post}/", expect="redirect"
        )
        self.forget_if_gone(post, record)

    def do_comment(self):
        post = self.pick_post()
        self.serial += 1
        body = f"Load test comment {self.serial} from {self.username}"
        _response, record = self.post_form(
            "comment", f"/p/{post}/comments/", {"body": body}, f"/p/{post}/", expect="redirect"
        )
        self.forget_if_gone(post, record)

    def do_upload(self):
        self.serial += 1
        fields = {
            "caption": f"Load test upload {self.serial} by {self.username}",
            "alt_text": "Generated noise",
            "csrfmiddlewaretoken": self.token(),
        }
        photo = ("loadgen.jpg", jpeg_for(self.driver.upload_size), "image/jpeg")
        body, content_type = encode_multipart(fields, {"photo": photo})
        headers = {"Content-Type": content_type, "Referer": self.driver.base_url + "/upload/"}
        _response, record = self.send("upload", "POST", "/upload/", body, headers, "upload")
        if record.post_id is not None:
            self.posts[record.post_id] = None


# --------------------------------------------------------------------------- the driver


class LoadDriver:
    """Simulated users against base_url until duration, max_requests or stop().

    start() returns self; mark(phase) switches the phase later requests are recorded
    under; stop() ends the run (waiting for requests in flight) and returns the Summary;
    wait(timeout) waits for the run to end by itself; run() = start + wait + stop.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        users: int = 4,
        mix: str | dict = DEFAULT_MIX,
        rate: float = 0.0,
        duration: float = 30.0,
        max_requests: int = 10_000,
        upload_size: str = "small",
        allow_hosts=(),
        timeout: float = 15.0,
        phase: str = DEFAULT_PHASE,
        seed: int | str | None = None,
        insecure: bool = False,
        resolve=None,
    ):
        if not isinstance(users, int) or users < 1:
            raise ValueError("users must be a positive integer")
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError("rate must be >= 0 (0 = as fast as possible)")
        if not (math.isfinite(duration) and duration > 0):
            raise ValueError("duration must be a positive number of seconds")
        if not isinstance(max_requests, int) or max_requests < 1:
            raise ValueError("max_requests must be a positive integer")
        if upload_size not in UPLOAD_SIZES:
            raise ValueError(f"upload_size must be one of {', '.join(UPLOAD_SIZES)}")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError("timeout must be a positive number of seconds")
        self.mix = parse_mix(mix)
        self.base_url = base_url.rstrip("/")
        self.addresses = check_target(self.base_url, allow_hosts, resolve)  # may refuse
        parts = urlsplit(self.base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.users = users
        self.rate = float(rate)
        self.duration = float(duration)
        self.max_requests = max_requests
        self.upload_size = upload_size
        self.timeout = float(timeout)
        self.insecure = insecure
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.run_id = secrets.token_hex(3)
        self.password = "lg-" + secrets.token_urlsafe(18)
        self._allow_hosts = list(allow_hosts)

        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._records: list[Record] = []
        self._marks: list[tuple[str, float]] = [(phase, 0.0)]
        self._phase = phase
        self._sent = 0
        self._errors = 0
        self._next_slot = 0.0
        self._t0: float | None = None
        self._started_at = ""
        self._elapsed: float | None = None
        self._stop_reason: str | None = None
        self._summary: Summary | None = None
        self._crashes: list[str] = []

    # ---- lifecycle
    def start(self) -> LoadDriver:
        if self._t0 is not None:
            raise RuntimeError("this driver was already started")
        if self.mix["upload"] > 0:
            jpeg_for(self.upload_size)  # generate before the clock starts
        self._started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        self._t0 = self._next_slot = time.monotonic()
        self._running = self.users
        for index in range(self.users):
            user = _User(self, index)
            thread = threading.Thread(
                target=self._run_user, args=(user,), name=f"loadgen-{index}", daemon=True
            )
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()
        return self

    def _run_user(self, user: _User):
        try:
            user.run()
        except Exception:  # a bug here must not pass for a quiet, lighter load
            with self._lock:
                self._crashes.append(f"{user.username}: {traceback.format_exc()}")
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._elapsed = time.monotonic() - self._t0
                    self._finished.set()

    def mark(self, phase: str) -> None:
        """Requests starting from now on are recorded under this phase."""
        with self._lock:
            now = self._now()
            self._phase = phase
            self._marks.append((phase, now))

    def username(self, index: int) -> str:
        """The name simulated user `index` signs up with (a valid handle: a-z, 0-9, _)."""
        return f"lg_{self.run_id}_{index:02d}"

    @property
    def phase(self) -> str:
        return self._phase

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run ends by itself (duration or max_requests); True if it has."""
        if self._t0 is None:
            raise RuntimeError("start() the driver first")
        return self._finished.wait(timeout)

    def stop(self, reason: str = "stopped") -> Summary:
        """Stop (if still running), wait for requests in flight, return the Summary."""
        if self._summary is not None:
            return self._summary
        if self._t0 is None:
            raise RuntimeError("start() the driver first")
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
            self._stop.set()
        deadline = time.monotonic() + self.timeout * 2 + 5
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            unfinished = self._running
            elapsed = self._elapsed if self._elapsed is not None else self._now()
            records = sorted(self._records, key=lambda r: r.seq)
            self._summary = Summary(
                records,
                self._marks,
                self.config(),
                self._started_at,
                elapsed,
                self._stop_reason,
                unfinished,
                self._crashes,
            )
        return self._summary

    def run(self) -> Summary:
        self.start()
        self.wait()
        return self.stop()

    def __enter__(self) -> LoadDriver:
        return self.start() if self._t0 is None else self

    def __exit__(self, *exc):
        self.stop()

    def progress(self) -> dict:
        with self._lock:
            return {
                "t": self._now(),
                "phase": self._phase,
                "requests": self._sent,
                "errors": self._errors,
            }

    def config(self) -> dict:
        return {
            "base_url": self.base_url,
            "users": self.users,
            "mix": self.mix,
            "rate": self.rate,
            "duration": self.duration,
            "max_requests": self.max_requests,
            "upload_size": self.upload_size,
            "timeout": self.timeout,
            "allow_hosts": self._allow_hosts,
            "run_id": self.run_id,
            "seed": self.seed,
        }

    # ---- internals used by the users
    def _now(self) -> float:
        return time.monotonic() - self._t0

    def sleep(self, seconds: float):
        if self._stop.wait(seconds):
            raise _Stop

    def pinned_connect(self, address, timeout=None, source_address=None, **_kw):
        """socket.create_connection, but only to the addresses check_target vetted."""
        last = None
        for family, sockaddr in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as error:
                sock.close()
                last = error
        raise last or OSError("no address to connect to")

    def _admit(self):
        """Pace, then claim one request within the bounds: (seq, t, phase) or _Stop."""
        if self.rate > 0:
            with self._lock:
                slot = max(self._next_slot, time.monotonic())
                if slot - self._t0 >= self.duration:  # the next slot is past the end
                    self._stop_reason = self._stop_reason or "duration"
                    self._stop.set()
                    raise _Stop
                self._next_slot = slot + 1.0 / self.rate
            delay = slot - time.monotonic()
            if delay > 0:
                self.sleep(delay)
        with self._lock:
            if self._stop.is_set():
                raise _Stop
            now = self._now()
            if now >= self.duration:
                self._stop_reason = self._stop_reason or "duration"
                self._stop.set()
                raise _Stop
            if self._sent >= self.max_requests:
                self._stop_reason = self._stop_reason or "max-requests"
                self._stop.set()
                raise _Stop
            self._sent += 1
            return self._sent, now, self._phase

    def send(self, user: _User, kind, method, path, body=None, headers=None, expect="page"):
        """One request from a user, recorded. Returns (_Response or None, Record)."""
        seq, t, phase = self._admit()
        start = time.perf_counter()
        response, retried, error_class = None, False, None
        try:
            response, retried = user.client.exchange(method, path, body, headers)
        except Exception as error:  # every failure is a result, never a crash
            error_class = type(error).__name__
        latency = (time.perf_counter() - start) * 1000
        status = response.status if response is not None else None
        outcome, label, post_id = _judge(expect, response, error_class)
        if label == "redirect to login":
            user.session_lost()
        record = Record(
            seq,
            t,
            phase,
            user.username,
            kind,
            method,
            path,
            status,
            outcome,
            label,
            round(latency, 3),
            len(response.body) if response is not None else 0,
            retried,
            post_id,
            response.headers.get("X-Cache") if response is not None else None,
        )
        with self._lock:
            self._records.append(record)
            if outcome == ERROR:
                self._errors += 1
        return response, record


def _judge(expect, response, error_class):
    """(outcome, error label, post id) for one exchange.

    page: 200 is success. redirect/auth/upload (POSTs, never followed): 2xx/3xx is
    success, except a redirect to the login page (the session is gone); an upload's
    redirect must name the new post (/p/<id>/). 429 is rate_limited; anything else,
    and any exception, is an error.
    """
    if response is None:
        return ERROR, error_class, None
    status = response.status
    if status == 429:
        return RATE_LIMITED, "HTTP 429", None
    if expect == "page":
        return (OK, None, None) if status == 200 else (ERROR, f"HTTP {status}", None)
    if not 200 <= status < 400:
        return ERROR, f"HTTP {status}", None
    location = response.location_path() if status >= 300 else ""
    if location.startswith("/accounts/login/"):
        return ERROR, "redirect to login", None
    if expect == "upload" and status >= 300:
        match = re.search(r"/p/(\d+)/", location)
        if not match:
            return ERROR, f"HTTP {status} to {location or '(no Location)'}", None
        return OK, None, int(match.group(1))
    return OK, None, None


# --------------------------------------------------------------------------- CLI


def parse_phases(text: str) -> list[tuple[str, float | None]]:
    """'before=10,during,after=10' -> [('before', 10.0), ('during', None), ('after', 10.0)]."""
    phases = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, seconds = part.partition("=")
        if not name:
            raise ValueError(f"phase {part!r} has no name")
        length = None
        if sep:
            length = float(seconds)
            if not (math.isfinite(length) and length > 0):
                raise ValueError(f"phase {name!r}: the length must be > 0 seconds")
        phases.append((name, length))
    if not phases:
        raise ValueError("--phases names no phase")
    return phases


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loadgen",
        description=(
            "Extagram load driver: simulated users (sign up, then a weighted mix of feed, "
            "post and profile GETs, likes, comments and uploads) against a loopback base "
            "URL; prints count, errors and p50/p95/p99 per kind (and phase) at the end."
        ),
        epilog=(
            "Phases: with --phases before=10,during,after=10 the run starts in 'before', "
            "moves on after 10 s, stays in 'during' until SIGUSR1 (kill -USR1 PID moves to "
            "the next phase at any time), then 'after' for 10 s. SIGINT/SIGTERM stop the run "
            "and still print the summary. Exit status: 0 no errors, 1 errors (429s do not "
            "count), 2 bad options or a refused base URL."
        ),
    )
    add = parser.add_argument
    add("--base-url", default=DEFAULT_BASE_URL, help=f"site to load (default {DEFAULT_BASE_URL})")
    add("--users", type=int, default=4, help="concurrent simulated users (default 4)")
    add(
        "--mix",
        default=",".join(f"{k}={v}" for k, v in DEFAULT_MIX.items()),
        help="request weights, KIND=WEIGHT,... (default %(default)s)",
    )
    add("--rate", type=float, default=0.0, help="target total requests/s; 0 = flat out")
    add("--duration", type=float, default=30.0, help="stop after SECONDS (default 30)")
    add("--max-requests", type=int, default=10_000, help="stop after N requests (10000)")
    add("--upload-size", choices=UPLOAD_SIZES, default="small", help="~100 KB or a 12 MP JPEG")
    add("--timeout", type=float, default=15.0, help="per-request socket timeout (default 15)")
    add(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="allow this non-loopback host (a container network name); repeatable",
    )
    add("--phases", help="phase names, each optionally NAME=SECONDS (see below)")
    add("--json", metavar="FILE", help="write the per-request records and summary as JSON")
    add("--table", choices=("text", "markdown"), default="text", help="summary table format")
    add("--seed", help="seed for the users' random choices (default: random)")
    add("--insecure", action="store_true", help="https: do not verify the certificate")
    add("--progress", type=float, default=5.0, help="progress line every N s on stderr; 0 off")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        phases = parse_phases(args.phases) if args.phases else [(DEFAULT_PHASE, None)]
        driver = LoadDriver(
            args.base_url,
            users=args.users,
            mix=args.mix,
            rate=args.rate,
            duration=args.duration,
            max_requests=args.max_requests,
            upload_size=args.upload_size,
            allow_hosts=args.allow_host,
            timeout=args.timeout,
            phase=phases[0][0],
            seed=args.seed,
            insecure=args.insecure,
        )
    except (ValueError, TargetRefused) as error:
        print(f"loadgen: {error}", file=sys.stderr)
        return 2

    requests = {"next": 0, "stop": None}

    def on_next_phase(signum, frame):
        requests["next"] += 1

    def on_stop(signum, frame):
        requests["stop"] = signal.Signals(signum).name

    handlers = {signal.SIGINT: on_stop, signal.SIGTERM: on_stop}
    if hasattr(signal, "SIGUSR1"):
        handlers[signal.SIGUSR1] = on_next_phase
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}

    def log(message):
        if args.progress > 0:
            print(f"loadgen: {message}", file=sys.stderr, flush=True)

    log(
        f"{args.users} users -> {driver.base_url} for {args.duration:g} s or "
        f"{args.max_requests} requests (pid {os.getpid()}), phase {phases[0][0]!r}"
    )
    driver.start()
    current = 0
    phase_started = time.monotonic()
    last_progress = time.monotonic()
    try:
        while not driver.wait(0.1):
            if requests["stop"]:
                driver.stop(f"signal {requests['stop']}")
                break
            length = phases[current][1]
            timed_out = length is not None and time.monotonic() - phase_started >= length
            if (requests["next"] or timed_out) and current + 1 < len(phases):
                requests["next"] = max(0, requests["next"] - 1)
                current += 1
                phase_started = time.monotonic()
                driver.mark(phases[current][0])
                log(f"phase {phases[current][0]!r}")
            elif requests["next"]:
                requests["next"] = 0
                log("no phase left to move to; still in the last one")
            if args.progress > 0 and time.monotonic() - last_progress >= args.progress:
                last_progress = time.monotonic()
                p = driver.progress()
                log(
                    f"t={p['t']:.0f}s phase={p['phase']} requests={p['requests']} "
                    f"errors={p['errors']}"
                )
    finally:
        summary = driver.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(summary.report(args.table))
    if args.json:
        summary.write_json(args.json)
        print(f"Records and summary written to {args.json}")
    return 1 if summary.errors or summary.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
