"""Drill 4: an app replica crashes (`kill -9` of its main process) under load.

    python -m drills.kill_replica [--short] [--record]

Under load, SIGKILL the main process (gunicorn's master) of one app container from the
host: what a crash or the OOM killer looks like. Docker's restart policy starts the
container again. Passes with zero failed GETs and the replica back, healthy, by itself.
Needs root on the engine's host (see drills.common.crash).

`docker kill` is not this: a container stopped through Docker's API stays down by
Docker's design (docs/operations.md, "What `docker kill` means").
"""

import sys

from drills.common import crash, main, under_load, wait_back

TITLE = "kill -9 one app replica under load"


def run_on(stack, result, args):
    project = stack.ops
    victim = project.running("app")[0]
    back = {}

    def event(_driver):
        crash(project, victim)
        back["seconds"] = wait_back(project, victim)

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
        "replica restarted by the restart policy, healthy",
        seconds is not None,
        f"{victim.name} healthy again {seconds:.1f}s after the kill" if seconds else "no",
    )
    result.check_uploads(stack, summary.uploads)
    if failed_posts:
        result.note(
            "POSTs in flight on the killed replica fail (the proxy cannot safely resend a "
            "request the replica may have acted on); GETs are retried on the other replica."
        )


if __name__ == "__main__":
    sys.exit(main("kill_replica", TITLE, run_on=run_on))
