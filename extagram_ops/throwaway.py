"""Throwaway compose stacks on loopback, for the stack tests, the drills and the bench.

One stack = one compose project of this checkout's compose.yaml (`<prefix><pid>` or a
name of the caller's) on free 127.0.0.1 ports and a free front /24, with none of the
operator's settings (their shell's variables and their `.env` are both left out: each
stack reads an env file of its own). It talks to Docker only through
extagram_ops.docker.Project, and to the site only through its front door (Client).

A run holds an exclusive lock on a file named after its project for as long as it
lives; the kernel drops the lock when the process ends, however it ends, so
remove_abandoned_projects() can tell the stacks of dead runs (portable: no /proc).
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import http.cookiejar
import io
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from extagram_ops.docker import (
    LONG_RUNNING,
    OpsError,
    Project,
    docker,
    page_cache_mib,
    wait_healthy,
)

REPO = Path(__file__).resolve().parents[1]
IMAGE_VARS = ("PYTHON_IMAGE", "NGINX_IMAGE", "DB_IMAGE", "REDIS_IMAGE")
# Front /24s come from here: the benchmarking range (RFC 2544), outside Docker's own
# pools and rarely on a LAN or VPN, apart from the default stack's 198.19.234.0/24.
# Rate limits raised for drills and test stacks: every simulated user comes from one
# address, so the app's and the proxy's per-address limits would measure themselves.
RAISED_LIMITS = {
    "SIGNUP_RATE": "100000/h",
    "LOGIN_RATE": "10000/m",
    "UPLOAD_RATE": "10000/m",
    "EXTAGRAM_PROXY_LOGIN_RATE": "200r/s",
    "EXTAGRAM_PROXY_LOGIN_BURST": "200",
    "EXTAGRAM_PROXY_UPLOAD_RATE": "200r/s",
    "EXTAGRAM_PROXY_UPLOAD_BURST": "200",
}

SUBNET_POOL = os.environ.get("STACK_SUBNET_POOL", "198.19.0.0/16")
LOCK_DIR = Path(tempfile.gettempdir()) / "extagram-stacks"
# The operator's own settings that must never leak into a throwaway stack.
OPERATOR_VARS = (
    "EXTAGRAM_SECRETS_DIR",
    "EXTAGRAM_TLS_DIR",
    "EXTAGRAM_APP_REPLICAS",
    "EXTAGRAM_IMAGE_PREFIX",
    "EXTAGRAM_FRONT_SUBNET",
    "EXTAGRAM_APP_VERSION",
    "EXTAGRAM_OPS_ENV_FILE",
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_FILE",
    "COMPOSE_ENV_FILES",
)
_HELD_LOCKS = {}


def docker_missing() -> str | None:
    """Why no stack can run here (no docker CLI, no engine, no Compose v2), or None."""
    try:
        if docker("info", check=False, timeout=60).returncode != 0:
            return "no Docker engine answering `docker info` (run .ci/docker-setup.sh)"
    except OpsError:
        return "no docker CLI on PATH"
    if docker("compose", "version", check=False, timeout=60).returncode != 0:
        return "no `docker compose` (Compose v2 plugin)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_subnet() -> str:
    """A /24 of SUBNET_POOL (from .200 up) that overlaps no existing Docker network."""
    used = []
    ids = docker("network", "ls", "-q").stdout.split()
    if ids:
        for net in json.loads(docker("network", "inspect", *ids).stdout):
            for cfg in (net.get("IPAM") or {}).get("Config") or []:
                if cfg.get("Subnet"):
                    used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    candidates = list(ipaddress.ip_network(SUBNET_POOL).subnets(new_prefix=24))[200:]
    start = os.getpid() % len(candidates)  # overlapping runs start at different places
    for i in range(len(candidates)):
        candidate = candidates[(start + i) % len(candidates)]
        if not any(candidate.overlaps(net) for net in used):
            return str(candidate)
    raise RuntimeError(f"no free /24 in {SUBNET_POOL} for a throwaway stack")


def hold_project_lock(project: str) -> None:
    """Mark `project` as in use by this process until it exits."""
    LOCK_DIR.mkdir(exist_ok=True)
    handle = open(LOCK_DIR / f"{project}.lock", "w")  # noqa: SIM115 -- held until exit
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _HELD_LOCKS[project] = handle


def run_is_alive(project: str) -> bool:
    """Whether the run that made `project` still lives (it holds the project's lock)."""
    if project in _HELD_LOCKS:
        return True
    try:
        with open(LOCK_DIR / f"{project}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def remove_abandoned_projects(env: dict, prefix: str) -> None:
    """`down -v` every compose project named `<prefix>...` whose run is gone (a test run,
    bench or drill killed before it could clean up): nobody holds its lock file."""
    out = docker("ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}').stdout
    for project in sorted(set(out.split())):
        if not project.startswith(prefix) or run_is_alive(project):
            continue
        Project(project, REPO, env).compose("down", "-v", "--remove-orphans", check=False)
        for suffix in (".lock", ".env"):
            (LOCK_DIR / f"{project}{suffix}").unlink(missing_ok=True)


def image_env() -> dict:
    """The base images: the caller's PYTHON_IMAGE etc. if any is set, else the local
    stand-ins of .ci/standins/images.env when it exists (CI reaches no registry)."""
    env = {}
    if not any(os.environ.get(v) for v in IMAGE_VARS):
        standins = REPO / ".ci" / "standins" / "images.env"
        if standins.is_file():
            for line in standins.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    if key in IMAGE_VARS:
                        env[key] = value
    return env


def loopback_env(version: str, **settings) -> dict:
    """The environment of a throwaway stack: base-image stand-ins where no registry is
    configured, none of the operator's settings, free loopback ports, plain HTTP;
    `settings` (compose variables) on top. The front subnet is picked by Stack.create,
    once the abandoned projects are gone."""
    env = dict(os.environ)
    env.update(image_env())
    for var in OPERATOR_VARS:
        env.pop(var, None)
    env.update(
        {
            "EXTAGRAM_VERSION": version,
            "EXTAGRAM_BIND": "127.0.0.1",
            "EXTAGRAM_PORT": str(free_port()),
            "EXTAGRAM_HTTPS_PORT": str(free_port()),
            "EXTAGRAM_HOSTS": "localhost,127.0.0.1",
            "EXTAGRAM_TLS": "false",
            "EXTAGRAM_UPLOAD_MAX_MB": "10",
            **settings,
        }
    )
    return env


class Stack:
    """One throwaway compose project: compose/docker through its Project, its
    containers as `docker inspect` dicts, its front door as a Client.

    `env` is shared, not copied: a caller that changes it (e.g. EXTAGRAM_TLS) changes
    what the next compose call sees."""

    def __init__(self, env: dict, project: str):
        hold_project_lock(project)
        env_file = LOCK_DIR / f"{project}.env"
        env_file.touch()
        # the stack's own env file: never the checkout's .env (it is the operator's)
        env.setdefault("EXTAGRAM_OPS_ENV_FILE", str(env_file))
        self.env = env
        self.project = project
        self.ops = Project(project, REPO, env)
        self.ops.env = env
        self.port = int(env["EXTAGRAM_PORT"])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.upload_max_mb = int(env["EXTAGRAM_UPLOAD_MAX_MB"])

    @classmethod
    def create(cls, env: dict, prefix: str, name: str | None = None):
        """A stack named `<prefix><name or pid>` after removing the prefix's abandoned
        projects, on a free front subnet (not started)."""
        remove_abandoned_projects(env, prefix)
        env["EXTAGRAM_FRONT_SUBNET"] = free_subnet()
        return cls(env, f"{prefix}{name or os.getpid()}")

    def compose(self, *args, check=True, timeout=900, input=None, text=True):
        return self.ops.compose(*args, check=check, timeout=timeout, input=input, text=text)

    def docker(self, *args, check=True, timeout=120):
        return self.ops.docker(*args, check=check, timeout=timeout)

    def client(self, cookies=None, timeout=30):
        return Client(self.base_url, cookies=cookies, timeout=timeout)

    def containers(self, service=None, all=False) -> list[dict]:
        """`docker inspect` of the project's service containers (running ones unless all)."""
        return [c.data for c in self.ops.containers(service, all=all)]

    def inspect(self, cid) -> dict:
        return json.loads(self.docker("inspect", cid).stdout)[0]

    def wait_healthy(self, timeout=180, poll=1.0):
        """Until every long-running service's containers run and are healthy."""
        serving = [c for c in self.ops.containers(all=True) if c.service in LONG_RUNNING]
        missing = set(LONG_RUNNING) - {c.service for c in serving}
        if missing:
            raise AssertionError(f"no containers for {', '.join(sorted(missing))}")
        return wait_healthy(self.ops, serving, timeout, poll, say=None)

    def up(self):
        """`up -d`, then until all healthy; the seconds it took. If either fails (or is
        interrupted) the stack is removed (`down -v`) before the error goes on: a stack
        that never came up leaks no containers, networks or volumes."""
        started = time.monotonic()
        with self.removed_on_failure():
            self.compose("up", "-d")
            self.wait_healthy()
        return time.monotonic() - started

    @contextlib.contextmanager
    def removed_on_failure(self):
        """`down -v` the stack if the block raises (anything, KeyboardInterrupt too),
        then re-raise."""
        try:
            yield
        except BaseException:
            self.down()
            raise

    def down(self, volumes=True):
        args = ["down", "--remove-orphans"] + (["-v"] if volumes else [])
        self.compose(*args, check=False, timeout=300)

    def exec(self, service, *cmd, stdin: bytes | None = None, timeout=900) -> str:
        """`compose exec -T` in the service's first container: its stdout (stdin: bytes)."""
        result = self.compose("exec", "-T", service, *cmd, input=stdin, text=False, timeout=timeout)
        return result.stdout.decode()

    def seed_posts(self, posts: int, users: int, *options: str, timeout=1800) -> str:
        """`manage.py seed_posts` to `posts` posts by `users` users (its other options as
        given); its output. Run in the upload container (same image and settings, 224 MB
        limit): in an app replica (128 MB) its photo processing gets the exec OOM-killed."""
        return self.exec(
            "upload",
            *("python", "manage.py", "seed_posts", "--posts", str(posts)),
            *("--users", str(users), *options),
            timeout=timeout,
        )

    def image(self, repo: str) -> str:
        """The name of this stack's image `repo` (app, proxy, media, static)."""
        return self.ops.image(repo, self.env["EXTAGRAM_VERSION"])

    def _containers(self, services):
        """{container name without the project prefix: container} of these services."""
        prefix = f"{self.project}-"
        return {
            c.name.removeprefix(prefix): c for c in self.ops.containers() if c.service in services
        }

    def memory(self, services=LONG_RUNNING) -> dict[str, float]:
        """{container name without the project prefix: MiB in use} (`docker stats`)."""
        containers = self._containers(services)
        stats = self.ops.stats(list(containers.values()))  # keyed by container id
        return {name: round(stats[c.id].mib, 1) for name, c in containers.items() if c.id in stats}

    def page_cache(self, services=LONG_RUNNING) -> dict[str, float]:
        """{container name without the project prefix: MiB of active page cache}, the part
        of memory() that is files cached for the container rather than its processes'
        (docker.page_cache_mib); containers whose cgroup this host cannot read are left out."""
        found = {}
        for name, container in self._containers(services).items():
            mib = page_cache_mib(container.id)
            if mib is not None:
                found[name] = round(mib, 1)
        return found

    def memory_table(self, title) -> list[str]:
        """`docker stats` memory and CPU per container, as report lines."""
        stats = sorted(self.ops.stats(self.ops.containers()).values(), key=lambda s: s.name)
        lines = [f"{title}:"]
        for s in stats:
            lines.append(f"  {s.name:<36} {s.used:>10} / {s.limit:<10} cpu {s.cpu}")
        lines.append(f"  {'total':<36} {sum(s.mib for s in stats):>7.1f}MiB")
        return lines


class ProcessesNotVisible(RuntimeError):
    """The engine's containers run where this process cannot signal them."""


def crash(project: Project, container) -> None:
    """SIGKILL the container's main process from the host: what a crash or the kernel's
    OOM killer does. Docker's restart policy (`restart: unless-stopped`) starts such a
    container again; it deliberately does NOT restart one stopped through its API
    (`docker kill`, `docker stop`), which is why the drills and tests never use those to
    simulate a crash. Needs root on the engine's host; ProcessesNotVisible otherwise."""
    pid = int(project.docker("inspect", "-f", "{{.State.Pid}}", container.id).stdout)
    if not pid or not Path(f"/proc/{pid}").exists():
        raise ProcessesNotVisible(
            "the container's processes are not visible from here (Docker in a VM, or "
            "rootless): run this on the engine's host"
        )
    if os.geteuid() != 0:
        raise ProcessesNotVisible("killing a container's process from the host needs root")
    os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- the client

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def location(self):
        return self.headers.get("Location")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """A small HTTP client for a stack's front door (standard library only): keeps
    cookies like a browser, never follows redirects, never raises on 4xx/5xx, and only
    ever talks to 127.0.0.1."""

    def __init__(self, base_url, timeout=30, cookies=None, cafile_data=None):
        """cafile_data: PEM text of the certificate to trust for https:// (self-signed)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()]
        if cafile_data:
            context = ssl.create_default_context(cadata=cafile_data)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def url(self, path):
        return path if path.startswith("http") else self.base_url + path

    def request(self, method, path, data=None, headers=None, timeout=None):
        headers = dict(headers or {})
        if method == "POST":
            headers.setdefault("Origin", self.base_url)
            headers.setdefault("Referer", self.url(path))
        url = self.url(path)
        assert url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")), url  # loopback only
        req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with self.opener.open(req, timeout=timeout or self.timeout) as r:
                return Response(r.status, r.headers, r.read(), r.url)
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read(), e.url)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def csrf_token(self, path):
        page = self.get(path)
        assert page.status == 200, f"GET {path}: {page.status}"
        match = CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token in the form at {path}"
        return match.group(1)

    def post_form(self, path, fields, token_from=None):
        fields = dict(fields)
        fields.setdefault("csrfmiddlewaretoken", self.csrf_token(token_from or path))
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST", path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(self, path, fields, files, token_from=None):
        fields = dict(fields)
        fields.setdefault("csrfmiddlewaretoken", self.csrf_token(token_from or path))
        body, content_type = encode_multipart(fields, files)
        return self.request("POST", path, data=body, headers={"Content-Type": content_type})

    def signup(self, username, password):
        return self.post_form(
            "/accounts/signup/",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password1": password,
                "password2": password,
            },
        )

    def login(self, username, password):
        return self.post_form("/accounts/login/", {"login": username, "password": password})


def encode_multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) and its Content-Type.

    fields: {name: value (str() of it is sent, UTF-8)};
    files: {name: (filename, data bytes, content type)}."""
    boundary = "----extagram" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f"--{boundary}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode() + b"\r\n")
    for name, (filename, data, content_type) in files.items():
        out.write(f"--{boundary}\r\n".encode())
        out.write(
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        )
        out.write(f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def raw_request(port, raw, timeout=5):
    """Send raw bytes to 127.0.0.1:port; return what came back (b"" if closed silently)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
