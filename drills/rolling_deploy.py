"""Drill 1: rolling (blue-green) deploy of a new version under load.

    python -m drills.rolling_deploy [--short] [--record]

Stack on drill-v1, load (feed/post/profile GETs, likes, comments, uploads), then
`extagram-ops deploy drill-v2`. Passes with zero failed requests, the served version
changed to drill-v2, and every acknowledged upload still there.
"""

import sys

from drills.common import V1, V2, main, running_stack, under_load, uploads_present

TITLE = "rolling deploy under load"


def run(result, args):
    with running_stack("deploy", args) as stack:
        run_on(stack, result, args)


def run_on(stack, result, args, target=V2):
    before = {v for v, _ in stack.served(6)}
    took = {}

    def event(_driver):
        _res, took["deploy"] = stack.ops("deploy", target)

    summary = under_load(stack, result, args, event)
    after = {v for v, _ in stack.served(6)}
    result.check(
        "zero failed requests",
        summary.errors == 0,
        f"{summary.total} requests, {summary.errors} errors {summary.errors_by_kind() or ''}",
    )
    result.check(
        "served version changed",
        after == {target},
        f"{', '.join(sorted(before))} -> {', '.join(sorted(after))}",
    )
    missing = uploads_present(stack, summary.uploads)
    result.check(
        "acknowledged uploads present",
        not missing,
        f"{len(summary.uploads)} acknowledged, missing {missing[:5]}",
    )
    result.note(
        f"`extagram-ops deploy {target}` took {took.get('deploy', 0):.1f}s "
        f"(from {', '.join(sorted(before)) or V1})"
    )


if __name__ == "__main__":
    sys.exit(main("rolling_deploy", TITLE, run))
