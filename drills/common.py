"""What every drill shares: its own compose stack, the load driver, the CLI, the report.

A drill stack is its own compose project (`extagram-ops-<drill>-<pid>`) on a free
127.0.0.1 port and a free front subnet (extagram_ops.throwaway, as the stack tests), with
the sign-up, login and upload rate limits raised (the simulated users all come from one
address), built from this checkout as version `drill-v1` (and `drill-v2` for deploys: the
same source, another version label). It is always removed (`down -v`) at the end unless
DRILL_KEEP=1 (or --keep); one whose build or start fails is removed at once, even then.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.loadgen import LoadDriver
from extagram_ops import throwaway
from extagram_ops.docker import OpsError, wait_healthy

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "operations.md"
V1 = os.environ.get("DRILL_V1", "drill-v1")
V2 = os.environ.get("DRILL_V2", "drill-v2")
PREFIX = "extagram-ops-"


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class DrillStack(throwaway.Stack):
    """A throwaway stack, plus the CLI run on it and a few uncached probes."""

    def ops_cli(self, *args, check=True):
        """Run the extagram-ops CLI on this stack (its output goes to stderr); the
        CompletedProcess and the seconds it took."""
        cmd = [sys.executable, "-m", "extagram_ops.cli", "-p", self.project, *args]
        log("$ extagram-ops -p " + self.project + " " + " ".join(args))
        started = time.monotonic()
        result = subprocess.run(cmd, cwd=REPO, env=self.env, stdout=subprocess.PIPE, text=True)
        print(result.stdout, end="", file=sys.stderr)
        elapsed = time.monotonic() - started
        if check and result.returncode != 0:
            raise AssertionError(f"extagram-ops {' '.join(args)} exited {result.returncode}")
        return result, elapsed

    def get(self, path, headers=None, timeout=10):
        """One GET through the proxy: (status, headers, body), (None, {}, error) when it
        got no answer; never raises on 4xx/5xx."""
        try:
            r = self.client(timeout=timeout).get(path, headers=headers)
        except OSError as e:
            return None, {}, str(e).encode()
        return r.status, r.headers, r.body

    def served(self, n=1):
        """[(version, replica)] of n uncached app requests (/healthz)."""
        out = []
        for _ in range(n):
            status, headers, _ = self.get("/healthz")
            if status == 200:
                out.append((headers.get("X-Extagram-Version"), headers.get("X-Served-By")))
        return out


def stack_env(version=V1):
    env = throwaway.loopback_env(version, **throwaway.RAISED_LIMITS)
    # each drill's ops state in its own folder, never the operator's
    env.setdefault("EXTAGRAM_OPS_STATE_DIR", str(REPO / "test-artifacts" / "ops-state"))
    return env


def build_images(stack, versions=(V1, V2)):
    """All images as the first version; only the app image for the others (same source)."""
    if os.environ.get("DRILL_NO_BUILD"):
        return
    for i, version in enumerate(versions):
        services = [] if i == 0 else ["app"]
        log(f"building images {version} {' '.join(services) or '(all)'}")
        stack.ops.compose("build", *services, env={"EXTAGRAM_VERSION": version}, timeout=3600)


def new_stack(name, version=V1, build=True, env=None):
    """A drill stack built (unless `build` is false) and started, every service healthy.
    If the build or the start fails the stack is removed (`down -v`) and the error raised."""
    env = dict(env or stack_env(version))
    env["EXTAGRAM_VERSION"] = version
    stack = DrillStack.create(env, PREFIX, f"{name}-{os.getpid()}")
    if build:
        with stack.removed_on_failure():
            build_images(stack)
    log(f"starting stack {stack.project} on {stack.base_url} ({version})")
    took = stack.up()  # removes the stack (down -v) if it does not come up
    log(f"stack healthy in {took:.1f}s")
    return stack


def load(stack, users=4, rate=15.0, duration=600, phase="before", mix=None):
    kwargs = {
        "users": users,
        "rate": rate,
        "duration": duration,
        "max_requests": 200_000,
        "phase": phase,
        "timeout": 20.0,
    }
    if mix:
        kwargs["mix"] = mix
    return LoadDriver(stack.base_url, **kwargs).start()


def uploads_present(stack, uploads):
    """Post ids (of acknowledged uploads) that the stack does not show any more."""
    missing = []
    for upload in uploads:
        if upload.post_id is None:
            missing.append("(no id)")
            continue
        status, _h, _b = stack.get(f"/p/{upload.post_id}/")
        if status != 200:
            missing.append(f"{upload.post_id} ({status})")
    return missing


class Result:
    """A drill's outcome: the load table, the checks, and where to record it."""

    def __init__(self, drill, title, command):
        self.drill = drill
        self.title = title
        self.command = command
        self.checks: list[tuple[str, bool, str]] = []
        self.notes: list[str] = []
        self.summary = None
        self.date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def check(self, name, ok, detail=""):
        self.checks.append((name, bool(ok), str(detail)))
        log(f"{'PASS' if ok else 'FAIL'} {name} {detail}")

    def check_no_errors(self, summary, name="zero failed requests"):
        """The load driver saw no failed request (its table says which kinds did)."""
        self.check(
            name,
            summary.errors == 0,
            f"{summary.total} requests, {summary.errors} errors {summary.errors_by_kind() or ''}",
        )

    def check_uploads(self, stack, uploads, name="acknowledged uploads present"):
        """Every acknowledged upload's post is still there (uploads_present)."""
        missing = uploads_present(stack, uploads)
        self.check(name, not missing, f"{len(uploads)} acknowledged, missing {missing[:5]}")

    def note(self, text):
        self.notes.append(text)

    @property
    def ok(self):
        return all(ok for _n, ok, _d in self.checks)

    def markdown(self):
        lines = [
            f"Last run: {self.date}, `{self.command}` — **{'PASS' if self.ok else 'FAIL'}**",
            "",
        ]
        if self.summary is not None:
            lines += [f"Load: {self.summary.headline()}", "", self.summary.table("markdown"), ""]
        lines += ["| check | result | detail |", "|---|---|---|"]
        for name, ok, detail in self.checks:
            lines.append(f"| {name} | {'pass' if ok else 'FAIL'} | {detail} |")
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def text(self):
        out = [f"== drill {self.drill}: {self.title} =="]
        if self.summary is not None:
            out += [self.summary.report(), ""]
        for name, ok, detail in self.checks:
            out.append(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}")
        out += [f"note: {n}" for n in self.notes]
        out.append(f"RESULT: {'PASS' if self.ok else 'FAIL'}")
        return "\n".join(out)

    def record(self, path=DOC):
        """Replace this drill's block between its markers in docs/operations.md."""
        start, end = f"<!-- drill:{self.drill}:start -->", f"<!-- drill:{self.drill}:end -->"
        text = path.read_text() if path.exists() else ""
        block = f"{start}\n{self.markdown()}\n{end}"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _m: block, text)
        else:
            text += f"\n{block}\n"
        path.write_text(text)
        log(f"recorded in {path.relative_to(REPO)}")

    def save_json(self):
        folder = REPO / "test-artifacts" / "drills"
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "drill": self.drill,
            "ok": self.ok,
            "date": self.date,
            "checks": self.checks,
            "notes": self.notes,
        }
        if self.summary is not None:
            data["load"] = self.summary.to_dict(records=False)
        (folder / f"{self.drill}.json").write_text(json.dumps(data, indent=1, default=str))


def main(drill, title, run=None, add_args=None, run_on=None):
    """Command-line entry of a drill module: run(result, args) does the work, or
    run_on(stack, result, args) on a fresh drill stack (removed afterwards)."""
    if run is None:

        def run(result, args):
            with running_stack(drill.replace("_", "-"), args) as stack:
                run_on(stack, result, args)

    parser = argparse.ArgumentParser(prog=f"python -m drills.{drill}", description=title)
    if add_args:
        add_args(parser)
    parser.add_argument(
        "--record", action="store_true", help="write the result into docs/operations.md"
    )
    parser.add_argument(
        "--short", action="store_true", help="a few seconds of load per phase (what CI runs)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    command = f"python -m drills.{drill}" + (" --short" if args.short else "")
    result = Result(drill, title, command)
    try:
        run(result, args)
    except Exception as error:  # the report must say what broke
        result.check("drill ran to the end", False, f"{type(error).__name__}: {error}"[:800])
    print(result.text())
    result.save_json()
    if args.record:
        result.record()
    return 0 if result.ok else 1


class running_stack:  # noqa: N801 -- used as a context manager
    """`with running_stack(name, args) as stack:` a fresh drill stack, removed afterwards."""

    def __init__(self, name, args, version=V1, build=True, env=None):
        self.name, self.args, self.version, self.build, self.env = name, args, version, build, env
        self.stack = None

    def __enter__(self):
        self.stack = new_stack(self.name, self.version, self.build, self.env)
        return self.stack

    def __exit__(self, *exc):
        if self.stack is None:
            return False
        if getattr(self.args, "keep", False) or os.environ.get("DRILL_KEEP"):
            log(f"kept: docker compose -p {self.stack.project} down -v   # when done")
        else:
            log(f"removing {self.stack.project}")
            self.stack.down()
        return False


def crash(project, container):
    """kill -9 of the container's main process (extagram_ops.throwaway.crash), logged."""
    log(f"kill -9 the main process of {container.name}")
    throwaway.crash(project, container)


def wait_back(project, container, timeout=90):
    """Seconds until the crashed container runs again and is healthy, or None."""
    try:
        return wait_healthy(project, [container], timeout, poll=0.5, restarted=True, say=None)
    except OpsError:
        return None


def phase_seconds(args):
    return 4.0 if getattr(args, "short", False) else 15.0


def under_load(stack, result, args, event, users=4, rate=15.0, after=None, mix=None):
    """before (load only) -> during (event(driver) runs) -> after; returns the Summary."""
    wait = phase_seconds(args)
    driver = load(stack, users=users, rate=rate, mix=mix)
    try:
        time.sleep(wait)
        driver.mark("during")
        event(driver)
        driver.mark("after")
        time.sleep(after if after is not None else wait)
    finally:
        summary = driver.stop()
    result.summary = summary
    return summary
