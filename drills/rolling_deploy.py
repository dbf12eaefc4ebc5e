"""Drill 1: rolling (blue-green) deploy of a new version under load.

    python -m drills.rolling_deploy [--short] [--record]

Stack on drill-v1, load (feed/post/profile GETs, likes, comments, uploads), then
`extagram-ops deploy drill-v2`. Passes with zero failed requests, the served version
changed to drill-v2, and every acknowledged upload still there. Then, still under load,
`extagram-ops deploy drill-broken` (an image whose health check always fails): the
command must fail, saying why, with zero failed requests and drill-v2 still served.
"""

import sys
import time

from drills.common import (
    V1,
    V2,
    load,
    log,
    main,
    phase_seconds,
)

TITLE = "rolling deploy under load (and a deploy that never gets healthy)"
BROKEN = "drill-broken"
BROKEN_DOCKERFILE = """
FROM {base}
USER 0:0
RUN printf '#!/bin/sh\\necho "unhealthy: broken on purpose by the drill" >&2\\nexit 1\\n' \\
    > /usr/local/bin/extagram-healthcheck
USER 10001:10001
ENV EXTAGRAM_VERSION={version}
LABEL org.opencontainers.image.version={version}
"""


def build_broken(stack):
    base = stack.ops.image("app", V1)
    log(f"building {BROKEN}: {base} with a health check that always fails")
    dockerfile = BROKEN_DOCKERFILE.format(base=base, version=BROKEN).encode()
    stack.ops.docker(
        "build", "-q", "-t", stack.ops.image("app", BROKEN), "-", input=dockerfile, text=False
    )


def run_on(stack, result, args, target=V2, broken=True):
    wait = phase_seconds(args)
    if broken:
        build_broken(stack)
    before = {v for v, _ in stack.served(6)}
    driver = load(stack)
    try:
        time.sleep(wait)
        driver.mark("deploy")
        _res, took = stack.ops_cli("deploy", target)
        driver.mark("after")
        time.sleep(wait)
        after = {v for v, _ in stack.served(6)}
        if broken:
            driver.mark("bad-deploy")
            timeout = "15" if args.short else "30"
            bad, bad_took = stack.ops_cli("deploy", BROKEN, "--timeout", timeout, check=False)
            driver.mark("after-bad")
            time.sleep(wait)
    finally:
        summary = driver.stop()
    result.summary = summary
    result.check_no_errors(summary)
    result.check(
        "served version changed",
        after == {target},
        f"{', '.join(sorted(before))} -> {', '.join(sorted(after))}",
    )
    result.note(
        f"`extagram-ops deploy {target}` took {took:.1f}s (from {', '.join(sorted(before)) or V1})"
    )
    if broken:
        still = {v for v, _ in stack.served(6)}
        result.check(
            f"deploy {BROKEN} refused (exit 1)",
            bad.returncode == 1,
            f"exit {bad.returncode} after {bad_took:.1f}s",
        )
        result.check(
            f"still serving {target} after the failed deploy",
            still == {target},
            ", ".join(sorted(still)),
        )
        left = [c.name for c in stack.ops.containers(all=True) if c.version == BROKEN]
        result.check("no container of the failed version left", not left, left or "")
    result.check_uploads(stack, summary.uploads)


if __name__ == "__main__":
    sys.exit(main("rolling_deploy", TITLE, run_on=run_on))
