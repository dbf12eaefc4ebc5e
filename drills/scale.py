"""Drill 3: scale app 2 -> 4 -> 2 under load.

    python -m drills.scale [--short] [--record]

Under load: `extagram-ops scale app=4`, a while at 4 (the proxy must send traffic to all
four replicas: X-Served-By of uncached requests), `extagram-ops scale app=2`. Passes
with zero failed requests and four distinct replicas answering while at 4.
"""

import sys
import time

from drills.common import load, main, phase_seconds, running_stack

TITLE = "scale app 2 -> 4 -> 2 under load"


def run(result, args):
    wait = phase_seconds(args)
    with running_stack("scale", args) as stack:
        driver = load(stack)
        try:
            time.sleep(wait)
            driver.mark("scale-up")
            _r, up_took = stack.ops_cli("scale", "app=4")
            driver.mark("at-4")
            replicas_at_4 = {r for _v, r in stack.served(40)}
            time.sleep(wait)
            driver.mark("scale-down")
            _r, down_took = stack.ops_cli("scale", "app=2")
            driver.mark("after")
            time.sleep(wait)
            replicas_after = {r for _v, r in stack.served(20)}
        finally:
            summary = driver.stop()
        result.summary = summary
        result.check_no_errors(summary)
        result.check(
            "traffic reaches all 4 replicas",
            len(replicas_at_4) == 4,
            f"X-Served-By at 4: {sorted(replicas_at_4)}",
        )
        running = len(stack.ops.running("app"))
        result.check(
            "back to 2 replicas",
            running == 2 and len(replicas_after) == 2,
            f"{running} running, answering: {sorted(replicas_after)}",
        )
        result.check_uploads(stack, summary.uploads)
        result.note(f"scale app=4 took {up_took:.1f}s, scale app=2 took {down_took:.1f}s")


if __name__ == "__main__":
    sys.exit(main("scale", TITLE, run))
