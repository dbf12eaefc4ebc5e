"""Fixtures for the stack tests: build the images, run the compose stack, talk to it.

The stack runs as its own compose project (`extagram-stacktest-<pid>`) on a free 127.0.0.1
port and a free front subnet, so it never collides with a stack you run yourself.
Without a Docker engine the tests skip; with CI=true that is a failure instead.

Base images: whatever PYTHON_IMAGE / NGINX_IMAGE / DB_IMAGE / REDIS_IMAGE say (the
official images by default). When none of them is set and .ci/standins/images.env
exists (CI machines, which reach no registry), the local stand-ins listed there are used.

Environment knobs: STACK_KEEP=1 leaves the stack running after the tests (for poking
at it; `docker compose -p extagram-stacktest-<pid> down -v` when done); STACK_NO_BUILD=1
skips `docker compose build` (images must exist).
"""

import fcntl
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from extagram_ops.docker import IMAGE_PREFIX
from tests.stack.stackhelpers import REPORT, Client

REPO = Path(__file__).resolve().parents[2]
# One compose project per test run (runs may overlap on one machine); a project left
# behind by a run that died is removed by the next run.
PROJECT_PREFIX = "extagram-stacktest-"
PROJECT = f"{PROJECT_PREFIX}{os.getpid()}"
IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE_VARS = ("PYTHON_IMAGE", "NGINX_IMAGE", "DB_IMAGE", "REDIS_IMAGE")
LONG_RUNNING = ("proxy", "app", "upload", "media", "static", "db", "cache")


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("compose stack report")
        for line in REPORT:
            terminalreporter.write_line(line)


def _unavailable(reason):
    if IN_CI:
        pytest.fail(f"CI=true but the stack tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Test, bench and drill stacks take their front /24 from here: the benchmarking range
# (RFC 2544), outside Docker's own pools and rarely on a LAN or VPN, and apart from the
# default stack's 198.19.234.0/24. STACK_SUBNET_POOL=<a /16> picks another.
SUBNET_POOL = os.environ.get("STACK_SUBNET_POOL", "198.19.0.0/16")


def _free_subnet():
    """A /24 of SUBNET_POOL (from .200 up) that overlaps no existing Docker network."""
    used = []
    ids = subprocess.run(
        ["docker", "network", "ls", "-q"], capture_output=True, text=True, check=True
    ).stdout.split()
    if ids:
        out = subprocess.run(
            ["docker", "network", "inspect", *ids], capture_output=True, text=True, check=True
        ).stdout
        for net in json.loads(out):
            for cfg in (net.get("IPAM") or {}).get("Config") or []:
                if cfg.get("Subnet"):
                    used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    candidates = list(ipaddress.ip_network(SUBNET_POOL).subnets(new_prefix=24))[200:]
    start = os.getpid() % len(candidates)  # overlapping runs start at different places
    for i in range(len(candidates)):
        candidate = candidates[(start + i) % len(candidates)]
        if not any(candidate.overlaps(net) for net in used):
            return str(candidate)
    raise RuntimeError(f"no free /24 in {SUBNET_POOL} for the test stack")


# A run (test session, bench, drill) holds an exclusive lock on a file named after its
# compose project for as long as it lives; the kernel drops the lock when the process
# ends, however it ends. A project whose lock can be taken belongs to a dead run.
LOCK_DIR = Path(tempfile.gettempdir()) / "extagram-stacks"
_HELD_LOCKS = {}


def hold_project_lock(project):
    """Mark `project` as in use by this process until it exits."""
    LOCK_DIR.mkdir(exist_ok=True)
    handle = open(LOCK_DIR / f"{project}.lock", "w")  # noqa: SIM115 -- held until exit
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _HELD_LOCKS[project] = handle


def _run_is_alive(project):
    path = LOCK_DIR / f"{project}.lock"
    if project in _HELD_LOCKS:
        return True
    try:
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def remove_abandoned_projects(env, prefix):
    """`down -v` every compose project named `<prefix>...` whose run is gone (a test run,
    bench or drill killed before it could clean up): nobody holds its lock file."""
    out = subprocess.run(
        ["docker", "ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}'],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for project in sorted(set(out.split())):
        if not project.startswith(prefix) or _run_is_alive(project):
            continue
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "-v", "--remove-orphans"],
            cwd=REPO,
            env=env,
            capture_output=True,
            check=False,
        )
        (LOCK_DIR / f"{project}.lock").unlink(missing_ok=True)


# The operator's own settings that must never leak into a throwaway stack.
OPERATOR_VARS = (
    "EXTAGRAM_SECRETS_DIR",
    "EXTAGRAM_TLS_DIR",
    "EXTAGRAM_APP_REPLICAS",
    "EXTAGRAM_IMAGE_PREFIX",
    "EXTAGRAM_FRONT_SUBNET",
    "COMPOSE_PROJECT_NAME",
    "EXTAGRAM_OPS_ENV_FILE",
    "EXTAGRAM_APP_VERSION",
    "COMPOSE_FILE",
)


def loopback_env(version, **settings):
    """The environment of a throwaway stack: base-image stand-ins where no registry is
    configured, none of the operator's settings, free loopback ports, plain HTTP;
    `settings` (compose variables) on top. The caller picks the front subnet once the
    abandoned projects are gone (_free_subnet)."""
    env = dict(os.environ)
    env.update(_image_env())
    for var in OPERATOR_VARS:
        env.pop(var, None)
    env.update(
        {
            "EXTAGRAM_VERSION": version,
            "EXTAGRAM_BIND": "127.0.0.1",
            "EXTAGRAM_PORT": str(_free_port()),
            "EXTAGRAM_HTTPS_PORT": str(_free_port()),
            "EXTAGRAM_HOSTS": "localhost,127.0.0.1",
            "EXTAGRAM_TLS": "false",
            "EXTAGRAM_UPLOAD_MAX_MB": "10",
            **settings,
        }
    )
    return env


def _image_env():
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


class Stack:
    """One compose project: run compose/docker commands, inspect its containers."""

    # Subclasses (bench, drills) run their own project and report failures as RuntimeError.
    failure = AssertionError

    def __init__(self, env, project=PROJECT):
        self.env = env
        self.project = project
        hold_project_lock(project)
        self.port = int(env["EXTAGRAM_PORT"])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.upload_max_mb = int(env["EXTAGRAM_UPLOAD_MAX_MB"])

    def compose(self, *args, check=True, timeout=900):
        result = subprocess.run(
            ["docker", "compose", "-p", self.project, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise self.failure(
                f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def docker(self, *args, check=True, timeout=120):
        result = subprocess.run(
            ["docker", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result

    def client(self, cookies=None):
        return Client(self.base_url, cookies=cookies)

    def containers(self, service=None, all=False):
        """[(id, service, name)] of this project's containers."""
        args = ["ps", "-q", "--no-trunc"]
        if all:
            args.insert(1, "-a")
        if service:
            args.append(service)
        ids = self.compose(*args).stdout.split()
        if not ids:
            return []
        return json.loads(self.docker("inspect", *ids).stdout)

    def inspect(self, cid):
        return json.loads(self.docker("inspect", cid).stdout)[0]

    def wait_healthy(self, timeout=180, poll=1.0):
        """Until every long-running service has all its containers running and healthy."""
        deadline = time.monotonic() + timeout
        states = {}
        while time.monotonic() < deadline:
            states = {}
            for info in self.containers(all=True):
                service = info["Config"]["Labels"]["com.docker.compose.service"]
                state = info["State"]
                health = (state.get("Health") or {}).get("Status", "none")
                states.setdefault(service, []).append(
                    (info["Name"].lstrip("/"), state["Status"], health, state.get("ExitCode"))
                )
            for name, status, _health, code in states.get("migrate", []) + states.get(
                "secrets-init", []
            ):
                if status == "exited" and code != 0:
                    logs = self.compose(
                        "logs", "--no-color", "migrate", "secrets-init", check=False
                    )
                    raise AssertionError(f"{name} failed (exit {code}):\n{logs.stdout[-3000:]}")
            ready = all(
                states.get(service)
                and all(st == "running" and h == "healthy" for _, st, h, _ in states[service])
                for service in LONG_RUNNING
            )
            if ready:
                return states
            time.sleep(poll)
        logs = self.compose("logs", "--no-color", "--tail", "40", check=False)
        raise AssertionError(f"stack not healthy after {timeout}s: {states}\n{logs.stdout[-6000:]}")

    def up(self):
        started = time.monotonic()
        self.compose("up", "-d")
        self.wait_healthy()
        return time.monotonic() - started

    def memory_table(self, title):
        """`docker stats --no-stream` memory per container, as report lines."""
        ids = [info["Id"] for info in self.containers()]
        out = self.docker(
            "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}\t{{.CPUPerc}}", *ids
        ).stdout
        lines = [f"{title}:"]
        total = 0.0
        for row in sorted(out.strip().splitlines()):
            name, usage, cpu = row.split("\t")
            used, _, limit = usage.partition(" / ")
            total += _mib(used)
            lines.append(f"  {name:<36} {used:>10} / {limit:<10} cpu {cpu}")
        lines.append(f"  {'total':<36} {total:>7.1f}MiB")
        return lines


def _mib(text):
    text = text.strip()
    for unit, factor in (("GiB", 1024), ("MiB", 1), ("KiB", 1 / 1024), ("B", 1 / 1024 / 1024)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return 0.0


@pytest.fixture(scope="session")
def stack():
    if shutil.which("docker") is None:
        _unavailable("no docker CLI on PATH")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        _unavailable("no Docker engine answering `docker info` (run .ci/docker-setup.sh)")
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        _unavailable("no `docker compose` (Compose v2 plugin)")

    env = loopback_env(
        "stacktest",
        EXTAGRAM_UPLOAD_MAX_MB="2",
        EXTAGRAM_PROXY_LOGIN_RATE="6r/m",
        EXTAGRAM_PROXY_LOGIN_BURST="3",
    )
    s = Stack(env)
    remove_abandoned_projects(env, PROJECT_PREFIX)
    env["EXTAGRAM_FRONT_SUBNET"] = _free_subnet()
    REPORT.append(
        "images: " + ", ".join(f"{v}={env.get(v, '(official default)')}" for v in IMAGE_VARS)
    )

    if not os.environ.get("STACK_NO_BUILD"):
        started = time.monotonic()
        s.compose("build", timeout=3600)
        REPORT.append(f"docker compose build: {time.monotonic() - started:.1f}s")
    try:
        REPORT.append(f"first start (empty volumes) to all healthy: {s.up():.1f}s")
        time.sleep(5)
        REPORT.extend(s.memory_table("memory just after start, idle (docker stats)"))
        yield s
    finally:
        try:
            REPORT.extend(s.memory_table("memory after the tests and drills (docker stats)"))
            REPORT.append("image sizes:")
            for repo in ("app", "proxy", "media", "static"):
                size = s.docker(
                    "image",
                    "inspect",
                    "-f",
                    "{{.Size}}",
                    f"{IMAGE_PREFIX}/{repo}:stacktest",
                    check=False,
                ).stdout.strip()
                if size:
                    REPORT.append(f"  {IMAGE_PREFIX}/{repo}:stacktest  {int(size) / 1e6:.1f} MB")
        except Exception as error:  # the report must never hide the real failure
            REPORT.append(f"(report failed: {error})")
        if not os.environ.get("STACK_KEEP"):
            s.compose("down", "-v", "--remove-orphans", check=False)
