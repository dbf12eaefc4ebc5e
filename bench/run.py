"""The benchmark suite: `python -m bench` (or `make bench`).

Builds the images, starts the compose stack as its own project on a free 127.0.0.1 port,
seeds posts, loads it with wrk case by case, measures memory and start-up, runs the
classic PHP design (case 9, optional: EXTAGRAM_PHP_ANCHOR) on the same machine, prints one table
and the budget (PASS/MISS), and writes both as Markdown and JSON under bench/results/.
The stack is always removed at the end (`down -v`). Loopback only, bounded in time.
"""

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import secrets
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if not __package__:  # run as bench/run.py
    sys.path.insert(0, str(REPO))

from bench import php, wrk  # noqa: E402
from bench.loadgen import jpeg_for, percentile  # noqa: E402
from bench.report import FLOOR, FULL_PAGE, SOCIAL_EXPLORE, SOCIAL_HOME, Report  # noqa: E402
from extagram_ops.docker import docker  # noqa: E402

RESULTS = REPO / "bench" / "results"
ALL_CASES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
FULL = {
    "sizes": (100, 10_000, 100_000),
    "duration": 15,
    "upload_duration": 20,
    "php_sizes": (20, 1000, 10_000),
    "php_uploads": 50,
    "bare_runs": 10,
    "deep": 5000,
    "isolation_duration": 30,
}
QUICK = {
    "sizes": (100, 400),
    "duration": 2,
    # case 10's signed-in social pages under 32 connections: the notifications page (50
    # rows) took longer than 2 s per request on a busy machine, and wrk counted none
    "social_duration": 5,
    # a 12-MP upload (JPEGs + WebPs) takes ~3 s at the upload tier's CPU weight on a busy
    # machine, and wrk counts only requests that complete within the load: 3 s recorded none
    "upload_duration": 10,
    "php_sizes": (20, 100),
    "php_uploads": 3,
    "bare_runs": 2,
    "deep": 200,
    "isolation_duration": 5,  # paced at a few req/s: 2 s may record nothing on a busy machine
}
# Data shapes for seed_posts: "plain" is short captions, no comments, and on the newest 24
# posts 30 likes each from the bench users in turn (so each member signed in by case 2
# sees like marks of its own); "heavy" is what a busy community looks like (and what an
# independent check may use).
SHAPES = {
    "plain": ["--likes-per-post=30", "--engaged-posts=24"],
    "heavy": [
        "--caption-chars=2200",
        "--likes-per-post=100",
        "--comments-per-post=20",
        "--engaged-posts=1000",
    ],
    # seeded by `manage.py seed_social` (issue 12): members, a follow graph, tags and
    # notifications; its options are SOCIAL / SOCIAL_QUICK below
    "social": [],
}
SHAPE_USERS = {"plain": 100, "heavy": 500, "social": 10_000}
# seed_social's follow graph: issue 12's shape in a full run; a small one for --quick
SOCIAL = ["--min-follows=50", "--max-follows=300", "--stars=20"]
SOCIAL_QUICK_USERS = 250
SOCIAL_QUICK = ["--min-follows=20", "--max-follows=100", "--stars=20"]
# Case 10 (--shape social only): the social pages, signed in as SOCIAL_MEMBERS distinct
# members rotated request by request (wrk.Load.sessions); case 2 signs in as many (issue
# 13: no per-session cache may stand in for rendering).
SOCIAL_MEMBERS = 100
# Case 2's signed-in feed: everyone's posts (Explore), the global feed issue 13's baseline
# measured. Not `/`, the home feed since issue 12: outside the social shape the bench's
# members follow nobody, so theirs would be their own few posts (case 10 measures home).
SIGNED_IN_FEED = "/explore/"
# Each case-10 load is preceded by an unrecorded warm-up of this share of its duration.
SOCIAL_WARMUP = 0.3
# Case 10 measures each page in up to this many rounds, interleaved with the other pages,
# each round at least SOCIAL_ROUND_MIN_SECONDS long (wrk's -d is whole seconds).
SOCIAL_ROUNDS = 5
SOCIAL_ROUND_MIN_SECONDS = 2
SOCIAL_PAGES = [
    (SOCIAL_HOME, "/"),
    (SOCIAL_EXPLORE, "/explore/"),
    ("tag page, signed in", "/tags/extagram/"),  # a tag every seeded post has
    ("search, signed in", "/search/?q=bench12"),  # a handle prefix: many matches
    ("notifications, signed in", "/notifications/"),
]
# An answer of the proxy's access log (deploy/proxy: `"$request" $status ... ust=$upstream_status`)
# with a 5xx status, and the app's (gunicorn's) lines about lost workers or failures.
PROXY_ERROR = re.compile(r'" (?P<status>5\d\d) .* ust=(?P<upstream>.*?) host=')
APP_ERROR = re.compile(r"WORKER TIMEOUT|SIGKILL|out of memory|Traceback|\bERROR\b|CRITICAL")
PASSWORD = "bench-" + secrets.token_urlsafe(12)  # the stack lives for one run
USER = "bench000"
CAPTION = "Bench upload: a new photo from the harbour at dusk with my friends & coffee <3"
POST_LINK = re.compile(r'href="/p/(\d+)/"')
CSS_HREF = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"')
PHOTO_SRC = re.compile(r'src="(/media/photos/[^"]+\.jpg)"')
ASSET_REF = re.compile(r'(?:src|href)="(/(?:static|media)/[^"]+)"')
SRCSET = re.compile(r'srcset="([^"]+)"')
PICTURE = re.compile(r"<picture>(.*?)</picture>", re.DOTALL)
SOURCE = re.compile(r"<source\b[^>]*>")
# The phone a full page load stands for: 390 CSS px wide at 2 device px per CSS px (an
# iPhone 12-15 class screen); photos are `sizes="(max-width: 640px) 100vw, ..."`, so it
# picks the smallest srcset candidate of at least 780 px, as a browser does.
PHONE_DEVICE_PX = 390 * 2

BARE_PIPELINE = r"""
import io, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
import django
django.setup()
from django.conf import settings
from extagram.uploads.images import process_photo
data = sys.stdin.buffer.read()
times = []
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    process_photo(io.BytesIO(data), max_pixels=settings.UPLOAD_MAX_PIXELS,
                  widths=settings.PHOTO_WIDTHS)
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def log(message):
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine_state():
    load = Path("/proc/loadavg").read_text().split()[:3]
    fmt = '{{.Label "com.docker.compose.project"}}|{{.Names}}'
    others = docker("ps", "--format", fmt, check=False).stdout.split()
    return {"loadavg": " ".join(load), "containers_running": len(others), "names": others}


def machine_info():
    mem = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        "0",
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_mib": int(mem) // 1024,
        "kernel": platform.release(),
        "os": _os_name(),
    }


def _os_name():
    try:
        text = Path("/etc/os-release").read_text()
        return re.search(r'PRETTY_NAME="([^"]+)"', text).group(1)
    except (OSError, AttributeError):
        return platform.platform()


def jpeg_500k():
    """The anchor's upload: ~500 KB (824x824 seeded noise, Pillow, quality 85)."""
    from extagram.testing.images import noisy_jpeg

    return noisy_jpeg(824, 824)


def jpeg_12mp():
    """A 12-megapixel photo-like JPEG (4000x3000, ~3.5 MB), the load driver's generator."""
    return jpeg_for("12mp")


class Bench:
    def __init__(self, args):
        self.args = args
        self.p = QUICK if args.quick else FULL
        if args.sizes:
            self.p = dict(self.p, sizes=tuple(args.sizes))
        if args.duration:
            self.p = dict(
                self.p,
                duration=args.duration,
                upload_duration=args.duration,
                social_duration=args.duration,
            )
        self.cases = set(args.cases)
        self.report = Report(quick=args.quick)
        self.stack = None
        self.session = None  # cookies of the signed-in bench user
        self.tmp = Path(tempfile.mkdtemp(prefix="extagram-bench-"))
        self.signed_in_rps_100 = None
        self.upload_bodies = {}

    # ------------------------------------------------------------------ helpers
    def url(self, path):
        return self.stack.base_url + path

    def load_target(self, path, via_port=False):
        """(URL, headers) for a wrk load. By default the proxy's address on the front
        network with the Host header of the published port: the path a visitor's
        request takes (see BenchStack.front_address); via_port adds docker-proxy."""
        if via_port:
            return self.url(path), {}
        host = self.stack.base_url.removeprefix("http://")
        return f"http://{self.stack.front_address()}:8080{path}", {"Host": host}

    def wrk(
        self,
        case,
        name,
        path,
        posts=None,
        signed_in=False,
        note="",
        cookies=None,
        via_port=False,
        headers=None,
        **kwargs,
    ):
        url, target_headers = self.load_target(path, via_port)
        load = wrk.Load(
            url,
            cookies=cookies or (self.session if signed_in else {}),
            headers={**target_headers, **(headers or {})},
            sessions=kwargs.pop("sessions", ()),
        )
        duration = kwargs.pop("duration", self.p["duration"])
        log(f"case {case}: {name}{f' ({posts} posts)' if posts else ''} -- wrk {duration}s")
        result = wrk.run(load, duration, **kwargs)
        self.drain()
        self.report.add(case, name, result, posts=posts, note=note)
        return result

    def warm(self, path, headers=None):
        """Fetch `path` once through the load's target with the load's `headers`, so the
        proxy's edge cache holds the copy the load will ask for (AssertionError unless
        200)."""
        url, target_headers = self.load_target(path)
        status = wrk.fetch(url, {**target_headers, **(headers or {})})
        assert status == 200, f"GET {path}: {status}"

    def drain(self):
        """Wait until the stack has answered the requests a finished load left queued
        (wrk.wait_until_drained); the seconds it took."""
        url, headers = self.load_target("/healthz")
        seconds = wrk.wait_until_drained(url, headers)
        if seconds >= wrk.DRAIN_TIMEOUT_SECONDS:
            log(f"the stack still answered slowly {seconds:.0f} s after the load; going on")
        return seconds

    def seed(self, posts):
        log(f"seeding to {posts} posts")
        started = time.monotonic()
        users = SHAPE_USERS[self.args.shape]
        if self.args.shape == "social":
            self.seed_social(posts)  # tops up: same members, follows and sessions
            log(f"seeded {posts} posts in {time.monotonic() - started:.1f}s")
            return
        self.stack.seed_posts(posts, users, "--password", PASSWORD, *SHAPES[self.args.shape])
        log(f"seeded {posts} posts in {time.monotonic() - started:.1f}s")

    def social_users(self):
        return SOCIAL_QUICK_USERS if self.args.quick else SHAPE_USERS["social"]

    def seed_social(self, posts):
        """`manage.py seed_social` in the upload container (as Stack.seed_posts runs
        seed_posts, and for the same reason: memory); run again, it tops up, its memory
        bounded by a batch of followers (~120 MB peak RSS at 10,000 members)."""
        options = SOCIAL_QUICK if self.args.quick else SOCIAL
        self.stack.exec(
            "upload",
            *("python", "manage.py", "seed_social", "--posts", str(posts)),
            *("--users", str(self.social_users()), "--password", PASSWORD, *options),
            timeout=3600,
        )

    def social_members(self):
        """SOCIAL_MEMBERS member names with notifications and an ordinary follow count:
        seed_social gives notifications to its first 200 members in username order and
        makes its first 20 (--stars) the accounts most people follow; these are the next
        SOCIAL_MEMBERS after the stars, in the same order."""
        names = sorted(f"bench{i:03d}" for i in range(self.social_users()))
        return names[20 : 20 + SOCIAL_MEMBERS]

    def feed_members(self):
        """The SOCIAL_MEMBERS members case 2 signs in: case 10's in the social shape,
        otherwise the first bench users (every shape seeds at least that many)."""
        if self.args.shape == "social":
            return self.social_members()
        return [f"bench{i:03d}" for i in range(SOCIAL_MEMBERS)]

    def sign_in_members(self, names=None):
        """Sign each member (default: the social members) in once (urllib, the real log-in
        form); their cookies."""
        sessions = []
        for name in names or self.social_members():
            client = self.stack.client()
            page = client.get("/accounts/login/")
            assert page.status == 200, f"login page: {page.status}"
            response = client.login(name, PASSWORD)
            assert response.status == 302, f"login as {name}: {response.status}"
            cookies = {
                "sessionid": client.cookie("sessionid"),
                "csrftoken": client.cookie("csrftoken"),
            }
            assert all(cookies.values()), f"{name}: no session/csrf cookie after login"
            sessions.append(cookies)
        self.member_client = client
        return tuple(sessions)

    def case_social(self, n):
        """Case 10: each social page under SOCIAL_MEMBERS signed-in members at once (wrk
        loads, each request the next member's session), interleaved: after one warm-up
        load per page, SOCIAL_ROUNDS rounds each give every page a share of its duration,
        the pages' order rotated each round, so that pages whose req/s the goals compare
        meet the same machine (these machines are shared: a page loaded alone for 10 s
        while something else ran beside it once read 0.72x of another it matched)."""
        if not getattr(self, "sessions", None):
            log(f"case 10: signing in {SOCIAL_MEMBERS} members")
            self.sessions = self.sign_in_members()
        url_headers = self.load_target("/")[1]
        duration = self.p.get("social_duration", self.p["duration"])
        warm_seconds = max(1, round(duration * SOCIAL_WARMUP))
        rounds = max(1, min(SOCIAL_ROUNDS, duration // SOCIAL_ROUND_MIN_SECONDS))
        loads, warm = {}, {}
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, path in SOCIAL_PAGES:
            r = self.member_client.get(path)
            assert r.status == 200, f"GET {path} (member): {r.status}"
            assert "csrfmiddlewaretoken" in r.text, f"{path}: signed-in page has no forms"
            loads[name] = wrk.Load(
                self.load_target(path)[0], headers=url_headers, sessions=self.sessions
            )
            # Warm-up, reported in the note: each member's first views render and cache
            # their post cards (extagram/posts/cards.py) and their home feed's ids; at
            # 100,000 posts every member's home feed is their own, so a cold start costs
            # more there.
            log(f"case 10: {name} ({n} posts) -- warm-up wrk {warm_seconds}s")
            warm[name] = wrk.run(loads[name], warm_seconds)
            self.drain()
        measured = {name: [] for name in loads}
        for round_number in range(rounds):
            shift = round_number % len(SOCIAL_PAGES)
            for name, _path in SOCIAL_PAGES[shift:] + SOCIAL_PAGES[:shift]:
                seconds = duration // rounds
                log(f"case 10: {name} ({n} posts) -- round {round_number + 1}, wrk {seconds}s")
                measured[name].append(wrk.run(loads[name], seconds))
                self.drain()
        for name, path in SOCIAL_PAGES:
            result, first = wrk.combine(measured[name]), warm[name]
            note = (
                f"{path}; {len(self.sessions)} members' sessions in turn; {rounds} rounds "
                f"interleaved with the other pages (p50: median of the rounds', p99: the "
                f"highest); after a {warm_seconds}-s warm-up: {first.rps} req/s, p99 "
                f"{first.p99_ms:.0f} ms, {first.errors} errors"
            )
            if result.errors or first.errors:
                note += f"; errors: {self.error_lines(since, f'{n}-{path}')}"
            self.report.add(10, name, result, posts=n, note=note)

    def error_lines(self, since, label):
        """What the proxy and app logged about failures since `since` (an RFC 3339 time):
        the proxy's answers with status >= 500 counted by status and upstream status, and
        the app's worker kills, timeouts and tracebacks; saved whole beside the results."""
        logs = self.stack.compose(
            "logs", "--no-color", "--since", since, "proxy", "app", check=False, timeout=120
        )
        text = logs.stdout + logs.stderr
        statuses, app = {}, []
        for line in text.splitlines():
            answer = PROXY_ERROR.search(line)
            if answer:
                key = f"{answer['status']} (upstream {answer['upstream']})"
                statuses[key] = statuses.get(key, 0) + 1
            elif APP_ERROR.search(line):
                app.append(line)
        name = re.sub(r"[^\w.-]+", "_", label).strip("_")
        path = Path(self.report_dir) / f"errors-{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*statuses, *app, "", text]))
        found = ", ".join(f"{k} x{v}" for k, v in statuses.items()) or "no 5xx in the proxy log"
        return f"{found}; {len(app)} app error lines ({path.name})"

    def sign_in(self):
        client = self.stack.client()
        page = client.get("/accounts/login/")
        assert page.status == 200, f"login page: {page.status}"
        response = client.login(USER, PASSWORD)
        assert response.status == 302, f"login as {USER}: {response.status}"
        self.session = {
            "sessionid": client.cookie("sessionid"),
            "csrftoken": client.cookie("csrftoken"),
        }
        self.client = client
        assert all(self.session.values()), f"no session/csrf cookie after login: {self.session}"

    def like_some(self, count=6):
        """The signed-in user likes a few posts on the first page (like state to render)."""
        page = self.client.get(SIGNED_IN_FEED)
        ids = list(dict.fromkeys(POST_LINK.findall(page.text)))[:count]
        token = self.client.cookie("csrftoken")
        for pk in ids[::2]:
            r = self.client.request(
                "POST",
                f"/p/{pk}/like/",
                data=f"csrfmiddlewaretoken={token}".encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status in (302, 200), f"like {pk}: {r.status}"

    def check_page(self, path, signed_in):
        client = self.client if signed_in else self.stack.client()
        r = client.get(path)
        assert r.status == 200, f"GET {path} ({'in' if signed_in else 'out'}): {r.status}"
        if signed_in:
            assert "csrfmiddlewaretoken" in r.text, f"{path}: signed-in page has no forms"
            assert r.header("X-Cache") in (None, "BYPASS"), f"{path}: X-Cache {r.header('X-Cache')}"
        return r

    # ------------------------------------------------------------------ cases
    def run(self):
        state = machine_state()
        self.report.meta.update(
            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            command=" ".join(["python", "-m", "bench", *sys.argv[1:]]),
            machine=machine_info(),
            load_before=state,
            wrk=wrk.version(),
            params={k: list(v) if isinstance(v, tuple) else v for k, v in self.p.items()},
            cases=sorted(self.cases),
            shape=self.args.shape,
        )
        log(f"machine: load {state['loadavg']}, {state['containers_running']} containers running")
        if not wrk.available():
            raise SystemExit("wrk is not installed (apt-get install wrk)")
        php_reason = php.missing() if 9 in self.cases else "not selected"
        if 9 in self.cases and php_reason and self.args.require_php:
            raise SystemExit(f"cannot run the PHP design: {php_reason} (or use --no-php)")

        from bench.stack import BenchStack, docker_versions

        self.stack = BenchStack.new()
        self.report.meta["project"] = self.stack.project
        self.report.meta["versions"] = docker_versions()
        self.report.meta["images"] = self.stack.images()
        try:
            self._stack_cases()
        finally:
            self._keep_logs_if_errors()
            if self.args.keep:
                log(f"--keep: stack left running ({self.stack.project}, {self.stack.base_url})")
            else:
                log("docker compose down -v")
                self.stack.down(volumes=True)
        if 9 in self.cases:
            if php_reason:
                log(f"case 9 skipped: {php_reason}")
                self.report.meta["php_skipped"] = php_reason
            else:
                self.case_php()
        self.report.meta["load_after"] = machine_state()
        self.report.meta["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def _keep_logs_if_errors(self):
        """Before `down -v`: when any load saw errors, save the services' recent logs (the
        proxy's lines carry the upstream status and time) beside the results."""
        if not any(row.errors for row in self.report.rows):
            return
        try:
            logs = self.stack.compose(
                "logs", "--no-color", "--timestamps", "--tail", "2000", check=False, timeout=120
            )
            path = Path(self.report_dir) / "stack-logs.txt"
            path.write_text(logs.stdout + logs.stderr)
            self.report.meta["stack_logs"] = str(path)
            log(f"errors seen: the stack's logs are in {path}")
        except Exception as error:  # noqa: BLE001 -- never hide the run's own result
            log(f"could not save the stack's logs: {error}")

    def _stack_cases(self):
        stack = self.stack
        if not self.args.no_build:
            log("docker compose build")
            started = time.monotonic()
            stack.compose("build", timeout=3600)
            self.report.meta["build_seconds"] = round(time.monotonic() - started, 1)
        stack.down(volumes=True)
        log(f"first start (empty volumes): project {stack.project} on {stack.base_url}")
        returned, healthy, timeline = stack.timed_up()
        self.report.startup["first"] = {
            "up_returned_s": round(returned, 1),
            "healthy_s": round(healthy, 1),
            "timeline": timeline,
        }
        self.report.images = stack.image_sizes()
        try:
            self.report.meta["versions"].update(stack.versions())
        except Exception as error:  # noqa: BLE001 -- versions are informative only
            log(f"versions: {error}")
        time.sleep(3 if self.args.quick else 10)
        self.report.memory["idle"] = stack.memory()
        self.report.page_cache["idle"] = stack.page_cache()
        log(f"idle memory: {sum(self.report.memory['idle'].values()):.1f} MiB")

        sizes = sorted(self.p["sizes"])
        self.seed(sizes[0])
        self.sign_in()
        self.like_some()
        front = self.check_page("/", signed_in=False).text
        self.assets = {
            "css": CSS_HREF.search(front).group(1),
            "photo": PHOTO_SRC.search(front).group(1),
        }

        for n in sizes:
            if n != sizes[0]:
                self.seed(n)
            if n == sizes[0] and 4 in self.cases:
                self.case_ceilings(n)
            if 1 in self.cases:
                self.check_page("/", signed_in=False)
                self.wrk(1, "feed, signed out", "/", posts=n, note="microcached at the proxy")
                if n == sizes[0]:
                    self.wrk(
                        1,
                        "feed, signed out, gzip",
                        "/",
                        posts=n,
                        headers={"Accept-Encoding": "gzip, deflate, br"},
                        note="as browsers ask: the proxy compresses each answer",
                    )
                    self.wrk(
                        1,
                        "feed, signed out, via the loopback port",
                        "/",
                        posts=n,
                        via_port=True,
                        note="127.0.0.1:<published port>: adds docker-proxy (userland)",
                    )
                # what the microcache saves: a session cookie that matches no session
                # makes the proxy bypass its cache and the app render the signed-out page
                self.wrk(
                    1,
                    "feed, signed out, microcache bypassed",
                    "/",
                    posts=n,
                    cookies={"sessionid": "no-such-session"},
                    note="unknown sessionid cookie: proxy cache bypassed, app renders",
                )
            if 10 in self.cases and self.args.shape == "social":
                self.case_social(n)
            if 2 in self.cases:
                self.check_page(SIGNED_IN_FEED, signed_in=True)
                if not getattr(self, "feed_sessions", None):
                    # case 10's members, when it has signed them in
                    self.feed_sessions = getattr(self, "sessions", None)
                if not self.feed_sessions:
                    log(f"case 2: signing in {SOCIAL_MEMBERS} members")
                    self.feed_sessions = self.sign_in_members(self.feed_members())
                members = f"{len(self.feed_sessions)} members' sessions in turn"
                r = self.wrk(
                    2,
                    "feed, signed in",
                    SIGNED_IN_FEED,
                    posts=n,
                    sessions=self.feed_sessions,
                    note=f"{SIGNED_IN_FEED} (everyone's posts); {members}",
                )
                if n == sizes[0]:
                    self.signed_in_rps_100 = r.rps
                    # the floor under any page Django renders: gunicorn + the middleware
                    # + the proxy, for a view that reads nothing
                    self.wrk(
                        2,
                        FLOOR,
                        "/healthz",
                        sessions=self.feed_sessions,
                        note="/healthz: no query, no template; the most Django can serve; "
                        + members,
                    )
        if 3 in self.cases:
            self.case_pages(sizes[-1])
        if 5 in self.cases:
            self.case_uploads()
        if 6 in self.cases:
            self.case_isolation(sizes[-1])
        if 7 in self.cases:
            time.sleep(2)
            self.report.memory["after_load"] = stack.memory()
            self.report.page_cache["after_load"] = stack.page_cache()
            log(f"memory after load: {sum(self.report.memory['after_load'].values()):.1f} MiB")
        if 8 in self.cases:
            log("warm restart: docker compose down (volumes kept), up -d")
            stack.down(volumes=False)
            returned, healthy, timeline = stack.timed_up()
            self.report.startup["warm"] = {
                "up_returned_s": round(returned, 1),
                "healthy_s": round(healthy, 1),
                "timeline": timeline,
            }
            self.check_page("/", signed_in=False)

    def case_ceilings(self, n):
        # one fetch first, as the feed's rows have (check_page), asked as wrk will ask: the
        # proxy's edge cache holds a copy per Accept-Encoding, and the load measures the
        # steady state, not a first fetch
        for path in (self.assets["css"], self.assets["photo"]):
            self.warm(path)
        self.wrk(4, "static CSS via proxy -> static", self.assets["css"], note=self.assets["css"])
        self.wrk(4, "photo via proxy -> media", self.assets["photo"], note="the <img src> JPEG")
        self.full_page_load(n)

    def full_page_load(self, n):
        """Case 4: a new visitor's first page, as page loads/s: the signed-out feed and every
        asset it references, each fetched once (cold browser cache), gzip accepted, photos
        at the srcset width a phone picks (PHONE_DEVICE_PX). wrk requests the paths in turn
        on 32 connections; page loads/s = req/s / paths per page, latency is per request."""
        html = self.check_page("/", signed_in=False).text
        paths = ["/", *page_assets(html)]
        url, headers = self.load_target("/")
        headers = {**headers, "Accept-Encoding": "gzip, deflate, br"}
        for path in paths:  # the proxy's cache warm, the browser's cold
            self.warm(path, headers)
        load = wrk.Load(url, headers=headers, paths=tuple(paths))
        log(f"case 4: full page load ({len(paths)} requests) -- wrk {self.p['duration']}s")
        result = wrk.run(load, self.p["duration"])
        per_page = dataclasses.replace(result, rps=round(result.rps / len(paths), 1))
        photos = sum(p.startswith("/media/") for p in paths)
        page_kb = result.bytes / max(result.requests, 1) * len(paths) / 1024
        self.report.add(
            4,
            FULL_PAGE,
            per_page,
            posts=n,
            note=f"page loads/s: HTML + {len(paths) - 1} assets ({photos} photos at the width "
            f"a {PHONE_DEVICE_PX}-px screen picks, CSS, JS, SVGs), {page_kb:,.0f} KB a page; "
            f"p50/p99 per request ({result.rps:,.0f} req/s)",
        )

    def case_pages(self, n):
        page = self.client.get("/").text
        ids = [int(x) for x in POST_LINK.findall(page)]
        top = max(ids)
        deep = top - min(self.p["deep"], n // 2)
        post = ids[len(ids) // 2]
        paths = [
            (f"deep feed page (?before= ~{top - deep} posts down)", f"/?before={deep}"),
            ("post page", f"/p/{post}/"),
            ("profile page", "/u/bench001/"),
        ]
        for name, path in paths:
            for signed_in in (False, True):
                self.check_page(path, signed_in=signed_in)
                who = "signed in" if signed_in else "signed out"
                self.wrk(3, f"{name}, {who}", path, posts=n, signed_in=signed_in, note=path)

    def _upload_body(self, label, jpeg):
        from extagram_ops.throwaway import encode_multipart

        if label not in self.upload_bodies:
            body, content_type = encode_multipart(
                {
                    "caption": CAPTION,
                    "alt_text": "A generated photo",
                    "csrfmiddlewaretoken": self.session["csrftoken"],
                },
                {"photo": (f"{label}.jpg", jpeg, "image/jpeg")},
            )
            path = self.tmp / f"upload-{label}.body"
            path.write_bytes(body)
            self.upload_bodies[label] = (str(path), content_type)
        return self.upload_bodies[label]

    def upload_load(self, label, jpeg):
        body_file, content_type = self._upload_body(label, jpeg)
        url, target_headers = self.load_target("/upload/")
        return wrk.Load(
            url,
            method="POST",
            cookies=self.session,
            headers={
                **target_headers,
                "Content-Type": content_type,
                "Origin": self.stack.base_url,
                "Referer": self.url("/upload/"),
            },
            body_file=body_file,
            expect_post_redirect=True,
        )

    def case_uploads(self):
        photos = {"500 KB": jpeg_500k(), "12 MP": jpeg_12mp()}
        self.report.meta["upload_files"] = {k: len(v) for k, v in photos.items()}
        # one upload through urllib first: proves the form, token and limits are right
        body_file, content_type = self._upload_body("500 KB", photos["500 KB"])
        r = self.client.request(
            "POST",
            "/upload/",
            data=Path(body_file).read_bytes(),
            headers={"Content-Type": content_type},
        )
        assert r.status == 302 and "/p/" in (r.location or ""), f"upload: {r.status} {r.text[:300]}"
        duration = self.p["upload_duration"]
        for label, jpeg in photos.items():
            load = self.upload_load(label, jpeg)
            log(f"case 5: upload {label} ({len(jpeg)} bytes), sequential, {duration}s")
            result = wrk.run(load, duration, threads=1, connections=1, timeout="120s")
            self.report.add(5, f"upload {label}, sequential", result, note=f"{len(jpeg)} bytes")
            log(f"case 5: upload {label}, 4 at a time, {duration}s")
            result = wrk.run(load, duration, threads=2, connections=4, timeout="120s")
            self.report.add(5, f"upload {label}, 4 at a time", result, note=f"{len(jpeg)} bytes")
        for label, jpeg in photos.items():
            runs = self.p["bare_runs"]
            log(f"case 5: bare pipeline on {label}, {runs} runs in the upload container")
            out = self.stack.exec(
                "upload", "python", "-c", BARE_PIPELINE, str(runs), stdin=jpeg, timeout=600
            )
            times = sorted(t * 1000 for t in json.loads(out.strip().splitlines()[-1]))
            self.report.bare[label] = {
                "runs": runs,
                "p50_ms": round(percentile(times, 50), 1),
                "p99_ms": round(percentile(times, 99), 1),
                "mean_ms": round(sum(times) / len(times), 1),
            }

    def case_isolation(self, n):
        """Signed-in feed at a steady pace (a fraction of its capacity): idle, while 4
        clients upload 12-MP photos continuously, and idle again (the machine is shared:
        two idle runs show how much its own noise moves p99)."""
        capacity = self.signed_in_rps_100 or 100.0
        target = max(10.0, capacity * 0.3)  # requests/s for the paced feed
        connections = 4
        delay_ms = max(1, int(1000 * connections / target))
        duration = self.p["isolation_duration"]
        url, headers = self.load_target("/")
        feed = wrk.Load(url, cookies=self.session, headers=headers, delay_ms=delay_ms)
        note = f"{connections} conns, {delay_ms} ms pause each (~{target:.0f} req/s offered)"
        log(f"case 6: paced signed-in feed, idle ({note}), {duration}s")
        idle = wrk.run(feed, duration, threads=2, connections=connections)
        self.report.add(6, "feed signed in, paced, idle", idle, posts=n, note=note)
        uploads = self.upload_load("12 MP", jpeg_12mp())
        log("case 6: the same, while 4 clients upload 12-MP photos continuously")
        handle = wrk.start(uploads, duration + 8, threads=2, connections=4, timeout="120s")
        try:
            time.sleep(4)
            busy = wrk.run(feed, duration, threads=2, connections=connections)
        finally:
            up = wrk.finish(handle)
        self.report.add(6, "feed signed in, paced, during uploads", busy, posts=n, note=note)
        self.report.add(6, "12-MP uploads meanwhile (4 clients)", up, note="background load")
        log("case 6: idle again")
        again = wrk.run(feed, duration, threads=2, connections=connections)
        self.report.add(6, "feed signed in, paced, idle again", again, posts=n, note=note)

    def case_php(self):
        out = Path(self.report_dir) / "php"
        try:
            result = php.run(
                out,
                self.p["php_sizes"],
                self.p["duration"],
                self.p["php_uploads"],
                log,
            )
        except Exception as error:  # noqa: BLE001 -- reported, the rest of the run stands
            log(f"case 9 failed: {error}")
            self.report.meta["php_error"] = str(error)[-1500:]
            return
        self.report.php = result


def page_assets(html):
    """The /static/ and /media/ paths a browser fetches for this page, each once: src/href
    attributes, and for each srcset the candidate a PHONE_DEVICE_PX-wide screen at 2 device
    px per CSS px picks (the smallest "w" width >= PHONE_DEVICE_PX, or "x" density >= 2;
    else the largest) instead of the img's src. In a <picture>, only its first <source>
    (the WebP, which every phone browser takes): the <img> inside is then not fetched."""
    html = PICTURE.sub(lambda m: (SOURCE.search(m.group(1)) or m).group(0), html)
    found = {}
    offered = set()
    for srcset in SRCSET.findall(html):
        candidates = []
        for part in srcset.split(","):
            url, _, descriptor = part.strip().partition(" ")
            descriptor = descriptor.strip() or "1x"
            value = float(descriptor[:-1])
            wanted = PHONE_DEVICE_PX if descriptor.endswith("w") else 2
            candidates.append((value, wanted, url))
            offered.add(url)
        candidates.sort()
        pick = next((u for v, w, u in candidates if v >= w), candidates[-1][2])
        found[pick] = True
    for path in ASSET_REF.findall(html):
        if path in offered and path not in found:
            continue  # an <img src> fallback the phone does not fetch
        found[path] = True
    return list(found)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Extagram benchmark suite: compose stack vs the classic PHP design.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny dataset and 2-s loads: checks the whole suite runs (numbers mean little)",
    )
    parser.add_argument(
        "--cases",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=list(ALL_CASES),
        help="comma-separated case numbers to run (default: all 1-10; 10 needs --shape social)",
    )
    parser.add_argument("--no-php", action="store_true", help="skip case 9 (the PHP design)")
    parser.add_argument(
        "--require-php",
        action="store_true",
        help="fail when case 9 cannot run (default: skip it with a note saying why; it needs "
        "EXTAGRAM_PHP_ANCHOR, the classic PHP design's folder, which is not in this repository)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x.replace("_", "")) for x in s.split(",") if x],
        help="post counts for the feed cases (default 100,10000,100000)",
    )
    parser.add_argument("--duration", type=int, help="seconds per load (default 15)")
    parser.add_argument(
        "--shape",
        choices=sorted(SHAPES),
        default="plain",
        help="data seeded: plain (short captions), heavy (2,200-char captions, 500 users,"
        " 100 likes and 20 comments on each of the newest 1,000 posts) or social"
        " (manage.py seed_social: 10,000 members, a follow graph, tags, notifications;"
        " adds case 10, the social pages signed in as 100 members)",
    )
    parser.add_argument("--no-build", action="store_true", help="use the images as built")
    parser.add_argument("--keep", action="store_true", help="leave the stack running at the end")
    parser.add_argument("--out", help="results folder (default bench/results/<UTC time>)")
    args = parser.parse_args(argv)
    if args.no_php:
        args.cases = [c for c in args.cases if c != 9]
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else RESULTS / (stamp + ("-quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    bench.report_dir = out
    failed = None
    try:
        bench.run()
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as error:  # noqa: BLE001 -- still write what was measured
        failed = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    if failed:
        bench.report.meta["failed"] = failed
    text = bench.report.markdown()
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps(bench.report.as_dict(), indent=2) + "\n")
    if not args.quick and not failed:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "latest.md").write_text(text)
        (RESULTS / "latest.json").write_text(json.dumps(bench.report.as_dict(), indent=2) + "\n")
    print(text)
    log(f"results: {out / 'results.md'} and results.json")
    return 1 if failed else 0


if __name__ == "__main__":  # bench/run.py
    sys.exit(main())
