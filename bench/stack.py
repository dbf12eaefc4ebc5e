"""The compose stack the benchmark runs against: its own project, port and subnet.

A throwaway stack (extagram_ops.throwaway, the same helpers as the stack tests and the
drills) that raises every login/sign-up/upload rate limit, at the proxy and in the app,
so that the numbers measure throughput and not the limiter; everything else is the
stack's default configuration.
"""

import json
import os
import time

from extagram_ops.docker import docker
from extagram_ops.throwaway import Stack, loopback_env

PROJECT_PREFIX = "extagram-bench-"
VERSION_TAG = "bench"
IMAGES = ("app", "proxy", "media", "static")

# Rate limits raised far above what a run sends (proxy: nginx limit_req; app: django-ratelimit)
UNLIMITED = {
    "EXTAGRAM_PROXY_LOGIN_RATE": "10000r/s",
    "EXTAGRAM_PROXY_LOGIN_BURST": "10000",
    "EXTAGRAM_PROXY_UPLOAD_RATE": "10000r/s",
    "EXTAGRAM_PROXY_UPLOAD_BURST": "10000",
    "LOGIN_RATE": "100000/m",
    "SIGNUP_RATE": "100000/h",
    "UPLOAD_RATE": "100000/m",
}


class BenchStack(Stack):
    @classmethod
    def new(cls):
        env = loopback_env(
            VERSION_TAG,
            EXTAGRAM_UPLOAD_MAX_MB=os.environ.get("EXTAGRAM_UPLOAD_MAX_MB", "10"),
            **UNLIMITED,
        )
        return cls.create(env, PROJECT_PREFIX)

    def client(self, cookies=None, timeout=180):
        return super().client(cookies=cookies, timeout=timeout)

    def front_address(self):
        """The proxy's address on the stack's front network. Traffic from another machine
        to the published port is DNATed by the kernel straight to it; traffic to the
        published port on the host's own loopback goes through docker-proxy, a userland
        copy that real visitors never pass through (and that nearly halved the cached
        feed's req/s on a 2-core machine)."""
        (proxy,) = [
            info for info in self.containers("proxy") if info["State"]["Status"] == "running"
        ]
        networks = proxy["NetworkSettings"]["Networks"]
        return networks[f"{self.project}_front"]["IPAddress"]

    def images(self):
        return {name: self.env.get(name) for name in ("PYTHON_IMAGE", "NGINX_IMAGE", "DB_IMAGE")}

    def timed_up(self, timeout=300):
        """(seconds for `up -d` to return, seconds from its start to every service healthy,
        {service: (started, first healthy check)} in seconds from the start). If the stack
        does not come up it is removed (`down -v`, even with --keep) and the error raised."""
        wall = time.time()
        started = time.monotonic()
        with self.removed_on_failure():
            self.compose("up", "-d", timeout=timeout)
            returned = time.monotonic() - started
            self.wait_healthy(timeout=timeout, poll=0.2)  # the measurement's resolution
        return returned, time.monotonic() - started, self.timeline(wall)

    def timeline(self, since):
        """When each container started and first passed its healthcheck (or exited)."""
        events = {}
        for info in self.containers(all=True):
            service = info["Config"]["Labels"]["com.docker.compose.service"]
            state = info["State"]
            start = _epoch(state.get("StartedAt"))
            healthy = None
            for entry in (state.get("Health") or {}).get("Log") or []:
                if entry.get("ExitCode") == 0:
                    healthy = _epoch(entry.get("End"))
                    break
            if healthy is None and state.get("Status") == "exited":
                healthy = _epoch(state.get("FinishedAt"))
            key = service if service not in events else f"{service}#{len(events)}"
            events[key] = (
                round(start - since, 1) if start else None,
                round(healthy - since, 1) if healthy else None,
            )
        return dict(sorted(events.items(), key=lambda kv: kv[1][0] or 0))

    def image_sizes(self):
        sizes = {}
        for repo in IMAGES:
            ref = self.image(repo)
            out = self.docker("image", "inspect", "-f", "{{.Size}}", ref, check=False).stdout
            if out.strip():
                sizes[repo] = round(int(out.strip()) / 1e6, 1)
        base = self.env.get("NGINX_IMAGE") or "nginx:1.28-alpine"
        out = self.docker("image", "inspect", "-f", "{{.Size}}", base, check=False).stdout
        if out.strip():
            sizes["nginx base"] = round(int(out.strip()) / 1e6, 1)
        return sizes

    def versions(self):
        """Server versions inside the stack (nginx, Python/Django/Pillow/gunicorn, DB, Redis)."""
        probes = {
            "proxy": ("proxy", ["nginx", "-v"]),
            "app": (
                "app",
                [
                    "python",
                    "-c",
                    "import sys, django, PIL, gunicorn; print('Python', sys.version.split()[0],"
                    " '/ Django', django.get_version(), '/ Pillow', PIL.__version__,"
                    " '/ gunicorn', gunicorn.__version__)",
                ],
            ),
            "db": ("db", ["sh", "-c", "mariadbd --version || mysqld --version"]),
            "cache": ("cache", ["redis-server", "--version"]),
        }
        found = {}
        for key, (service, cmd) in probes.items():
            result = self.compose("exec", "-T", service, *cmd, timeout=60, check=False)
            text = (result.stdout + result.stderr).strip().splitlines()
            found[key] = text[0] if text else "?"
        return found


def _epoch(stamp):
    """Docker's RFC 3339 time (nanoseconds, Z) as epoch seconds; None if unset."""
    if not stamp or stamp.startswith("0001-"):
        return None
    import datetime as dt

    head, _, frac = stamp.rstrip("Z").partition(".")
    frac = (frac.split("+")[0].split("-")[0] + "000000")[:6]
    return dt.datetime.fromisoformat(f"{head}.{frac}+00:00").timestamp()


def docker_versions():
    out = docker("version", "--format", "{{json .}}", check=False).stdout
    try:
        engine = json.loads(out).get("Server", {}).get("Version", "?")
    except ValueError:
        engine = "?"
    compose = docker("compose", "version", "--short", check=False).stdout.strip()
    return {"docker engine": engine, "docker compose": compose}
