"""Drill 4: `kill -9` one app replica under load.

    python -m drills.kill_replica [--short] [--record]

Under load, `docker kill --signal KILL` one app container (SIGKILL to its main process;
the `keeper` service starts a docker-killed container again; a process killed from
inside or by the kernel is restarted by the restart policy). Passes with zero failed
GETs and the replica back, healthy, by itself.
"""

import sys
import time

from drills.common import log, main, running_stack, under_load, uploads_present

TITLE = "kill -9 one app replica under load"
GET_KINDS = ("feed", "post", "profile", "signup_form", "login_form")


def wait_back(project, victim, timeout=90):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        now = project.inspect(victim.id)
        if now and now[0].status == "running" and now[0].health == "healthy":
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
        log(f"docker kill --signal KILL {victim.name}")
        project.docker("kill", "--signal", "KILL", victim.id)
        back["seconds"] = wait_back(project, victim)

    summary = under_load(stack, result, args, event)
    get_errors = sum(
        len(summary.select(k)) and summary.errors_by_kind().get(k, {}) != {} for k in GET_KINDS
    )
    failed_gets = [r for r in summary.records if r.method == "GET" and r.outcome == "error"]
    failed_posts = [r for r in summary.records if r.method == "POST" and r.outcome == "error"]
    result.check(
        "zero failed GETs",
        not failed_gets and not get_errors,
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
    sys.exit(main("kill_replica", TITLE, run))
