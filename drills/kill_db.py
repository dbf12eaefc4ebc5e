"""Drill 5: `kill -9` the database under load.

    python -m drills.kill_db [--short] [--record]

Under load, `kill -9` the database server (the db container's main process, from the
host: see drills.common.crash); Docker's restart policy starts it again and InnoDB
recovers from its log. While it is down, a prober asks for uncached pages: every
answer must be 200 (a page that needs no database, or the proxy's microcache) or the
site's clear 503 page, never a 500 or a traceback. The site must recover without any
app restart, and every upload acknowledged before the kill must still be there.
"""

import sys
import threading
import time

from drills.common import crash, main, under_load

TITLE = "kill -9 the database under load"
BAD_MARKERS = (b"Traceback", b"Server Error (500)", b"OperationalError")


def run_on(stack, result, args):
    project = stack.ops
    db = project.one("db")
    apps_before = {c.id: c.restart_count for c in project.running("app")}
    probes = []  # (t, status, clear_503, bad_body)
    stop = threading.Event()

    def prober():
        n = 0
        while not stop.is_set():
            n += 1
            status, _headers, body = stack.get(f"/?drill-probe={n}", timeout=20)
            clear = status == 503 and b"Back in a moment" in body
            bad = any(m in body for m in BAD_MARKERS)
            probes.append((time.monotonic(), status, clear, bad))
            time.sleep(0.25)

    info = {}

    def event(driver):
        info["kill_t"] = time.monotonic() - driver._t0
        thread = threading.Thread(target=prober, daemon=True)
        thread.start()
        killed = time.monotonic()
        crash(project, db)
        # recovered: 5 probes in a row answered 200 (database pages work again)
        deadline = killed + 180
        while time.monotonic() < deadline:
            recent = [s for _t, s, _c, _b in probes[-5:]]
            if (
                len(recent) == 5
                and all(s == 200 for s in recent)
                and any(s != 200 for _t, s, _c, _b in probes)
            ):
                break
            time.sleep(0.5)
        last_bad = next((t for t, s, _c, _b in reversed(probes) if s != 200), killed)
        info["down_s"] = last_bad - killed
        stop.set()
        thread.join(30)

    summary = under_load(stack, result, args, event)
    statuses = {}
    for _t, s, _c, _b in probes:
        statuses[s] = statuses.get(s, 0) + 1
    not_clear = [s for _t, s, c, _b in probes if s != 200 and not c]
    bad_bodies = sum(b for _t, _s, _c, b in probes)
    result.check(
        "while down: only 200 or the clear 503 page",
        not not_clear and bad_bodies == 0,
        f"probe answers {statuses}; other {sorted(set(map(str, not_clear)))}; "
        f"traceback/500 bodies {bad_bodies}",
    )
    errors = summary.errors_by_kind()
    kinds = {label for labels in errors.values() for label in labels}
    result.check(
        "load: no error other than HTTP 503",
        kinds <= {"HTTP 503"},
        f"{summary.errors} errors {errors or ''}",
    )
    after = [r for r in summary.select(phase="after") if r.outcome == "error"]
    result.check(
        "recovered without restart",
        not after and {c.id: c.restart_count for c in project.running("app")} == apps_before,
        f"last 503 seen {info.get('down_s', 0):.1f}s after the kill; "
        f"{len(after)} errors after; app containers not restarted",
    )
    acked = [u for u in summary.uploads if u.acked_t < info.get("kill_t", 0)]
    result.check_uploads(stack, acked, "uploads acknowledged before the kill present")


if __name__ == "__main__":
    sys.exit(main("kill_db", TITLE, run_on=run_on))
