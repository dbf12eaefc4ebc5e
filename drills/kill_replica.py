"""Drill 4: `kill -9` one app replica under load.

    python -m drills.kill_replica [--short] [--record]

Under load, `docker kill --signal KILL` one app container (SIGKILL to its main process;
the `keeper` service starts a docker-killed container again; a process killed from
inside or by the kernel is restarted by the restart policy: `--via pid` does that, a
`kill -9` of the container's main process from the host). Passes with zero failed GETs
and the replica back, healthy, by itself.
"""

import os
import signal
import sys
import time

from drills.common import log, main, running_stack, under_load, uploads_present

TITLE = "kill -9 one app replica under load"


def _state(project, cid):
    fmt = (
        "{{.State.StartedAt}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}"
    )
    return project.docker("inspect", "-f", fmt, cid, check=False).stdout.strip().split("|")


def wait_back(project, victim, started_before, timeout=90):
    """Seconds until the container runs again (a new StartedAt) and is healthy."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        state = _state(project, victim.id)
        if len(state) == 3 and state[0] != started_before and state[1:] == ["running", "healthy"]:
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def run(result, args):
    with running_stack("kill-replica", args) as stack:
        run_on(stack, result, args)


def run_on(stack, result, args):
    project = stack.ops_project
    victim = project.running("app")[0]
    back = {}

    def event(_driver):
        started_before = _state(project, victim.id)[0]
        if getattr(args, "via", "docker") == "pid":
            # SIGKILL straight to the container's main process (gunicorn's master): what a
            # crash or the OOM killer looks like; Docker's restart policy brings it back
            pid = int(project.docker("inspect", "-f", "{{.State.Pid}}", victim.id).stdout)
            log(f"kill -9 {pid}  (main process of {victim.name})")
            os.kill(pid, signal.SIGKILL)
        else:
            log(f"docker kill --signal KILL {victim.name}")
            project.docker("kill", "--signal", "KILL", victim.id)
        back["seconds"] = wait_back(project, victim, started_before)

    summary = under_load(stack, result, args, event)
    failed_gets = [r for r in summary.records if r.method == "GET" and r.outcome == "error"]
    failed_posts = [r for r in summary.records if r.method == "POST" and r.outcome == "error"]
    result.check(
        "zero failed GETs",
        not failed_gets,
        f"{summary.total} requests; failed GETs {len(failed_gets)}, "
        f"failed POSTs {len(failed_posts)} {summary.errors_by_kind() or ''}",
    )
    seconds = back.get("seconds")
    result.check(
        "replica back by itself, healthy",
        seconds is not None,
        f"{victim.name} healthy again {seconds:.1f}s after the kill" if seconds else "no",
    )
    missing = uploads_present(stack, summary.uploads)
    result.check(
        "acknowledged uploads present",
        not missing,
        f"{len(summary.uploads)} acknowledged, missing {missing[:5]}",
    )
    if failed_posts:
        result.note(
            "POSTs in flight on the killed replica fail (the proxy cannot safely resend a "
            "request the replica may have acted on); GETs are retried on the other replica."
        )


if __name__ == "__main__":

    def add_args(parser):
        parser.add_argument(
            "--via",
            choices=("docker", "pid"),
            default="docker",
            help="docker: `docker kill --signal KILL` (the keeper restarts it); pid: "
            "`kill -9` of the container's main process from the host (needs root; the "
            "restart policy restarts it)",
        )

    sys.exit(main("kill_replica", TITLE, run, add_args))
