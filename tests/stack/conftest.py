"""Fixtures for the stack tests: build the images, run the compose stack, talk to it.

The stack runs as its own compose project (`extagram-stacktest-<pid>`) on a free 127.0.0.1
port and a free front subnet, so it never collides with a stack you run yourself
(extagram_ops.throwaway builds it; the drills and the bench use the same helpers).
Without a Docker engine the tests skip; with CI=true that is a failure instead.

Base images: whatever PYTHON_IMAGE / NGINX_IMAGE / DB_IMAGE / REDIS_IMAGE say (the
official images by default). When none of them is set and .ci/standins/images.env
exists (CI machines, which reach no registry), the local stand-ins listed there are used.

Environment knobs: STACK_KEEP=1 leaves the stack running after the tests (for poking
at it; `docker compose -p extagram-stacktest-<pid> down -v` when done); STACK_NO_BUILD=1
skips `docker compose build` (images must exist).
"""

import os
import time

import pytest

from conftest import IN_CI
from extagram_ops.throwaway import IMAGE_VARS, Stack, docker_missing, loopback_env
from tests.stack.stackhelpers import AT_SESSION_END, REPORT

PROJECT_PREFIX = "extagram-stacktest-"


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("compose stack report")
        for line in REPORT:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session):
    while AT_SESSION_END:
        AT_SESSION_END.pop(0)()


def unavailable(reason):
    """Skip (a laptop without the tool) or, with CI=true, fail: in CI everything runs."""
    if IN_CI:
        pytest.fail(f"CI=true but the stack tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def require_docker():
    reason = docker_missing()
    if reason:
        unavailable(reason)


@pytest.fixture(scope="session")
def stack():
    require_docker()
    env = loopback_env(
        "stacktest",
        EXTAGRAM_UPLOAD_MAX_MB="2",
        EXTAGRAM_PROXY_LOGIN_RATE="6r/m",
        EXTAGRAM_PROXY_LOGIN_BURST="3",
        # a sweep every few seconds, so test_media_sweep.py sees one (default: 900 s)
        EXTAGRAM_MEDIA_SWEEP_INTERVAL="3",
        # the proxy keeps photos 5 s, so test_asset_cache.py sees a deleted one go quickly
        EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS="5",
    )
    s = Stack.create(env, PROJECT_PREFIX)
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
                image = s.image(repo)
                size = s.docker("image", "inspect", "-f", "{{.Size}}", image, check=False)
                if size.stdout.strip():
                    REPORT.append(f"  {image}  {int(size.stdout) / 1e6:.1f} MB")
        except Exception as error:  # the report must never hide the real failure
            REPORT.append(f"(report failed: {error})")
        if not os.environ.get("STACK_KEEP"):
            s.down()
