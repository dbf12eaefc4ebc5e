"""Drill 2: rollback under load.

    python -m drills.rollback [--short] [--record]

Stack on drill-v1, `extagram-ops deploy drill-v2` (before the load), then under load
`extagram-ops rollback`. Passes with zero failed requests and drill-v1 served again.
"""

import sys

from drills.common import V1, V2, main, running_stack, under_load

TITLE = "rollback under load"


def run(result, args):
    with running_stack("rollback", args) as stack:
        stack.ops_cli("deploy", V2)
        before = {v for v, _ in stack.served(6)}
        took = {}

        def event(_driver):
            _res, took["rollback"] = stack.ops_cli("rollback")

        summary = under_load(stack, result, args, event)
        after = {v for v, _ in stack.served(6)}
        result.check_no_errors(summary)
        result.check(
            f"served version back to {V1}",
            after == {V1},
            f"{', '.join(sorted(before))} -> {', '.join(sorted(after))}",
        )
        result.check_uploads(stack, summary.uploads)
        result.note(f"`extagram-ops rollback` took {took.get('rollback', 0):.1f}s")


if __name__ == "__main__":
    sys.exit(main("rollback", TITLE, run))
