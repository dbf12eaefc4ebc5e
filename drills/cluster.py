"""Drills on the three-node swarm (issue 15), each under load with a printed table.

    python -m drills.cluster [--short] [--record] [--keep]
        [--only deploy,rollback,scale,node,dbnode]

One swarm stack on the local cluster (.ci/cluster.sh; extagram.testing.cluster brings it
up if needed): images from the registry, photos in an S3 bucket (moto_server, test
scaffolding), two app replicas, the proxy on the edge node (node 2). Operations go
through `extagram-ops --swarm STACK` (DOCKER_HOST = the manager), which drives the
engine (`docker service update/rollback/scale`). In order:

- deploy: `extagram-ops --swarm S deploy V2` under load: zero failed requests, V2 served.
- rollback: `extagram-ops --swarm S deploy BROKEN` (an image whose health check always
  fails) under load: the engine rolls back by itself (app UpdateStatus
  rollback_completed), the command says so and exits 1, zero failed requests, V2 still
  served. (`docker service update` itself exits 0 after an automatic rollback.)
- scale: `extagram-ops --swarm S scale app=6` then `app=2` under load: zero failed
  requests, six replicas answering over three nodes, then two.
- node: node 3's engine stopped (its container stopped) under load with uploads: its
  tasks rescheduled on nodes 1-2; failed requests counted, and bounded: none later than
  NODE_LOSS_BOUND seconds after the stop; the photos fetched after the stop, and how
  many failed, with one of the three media tasks lost; every acknowledged upload's post
  there, and every photo file the database names is in the bucket (bucket vs rows).

The load is the bench's mix plus photo files (LOAD_MIX): each simulated user fetches
photos the pages it read name, through the proxy and the media tier.
- dbnode: the database node's loss and the documented recovery (docs/swarm.md, "Losing
  the database node"): under load, `extagram-ops --swarm S backup --database-only` (the
  photos are in the bucket, which the loss leaves intact), writes go on, then node 1's
  engine stops (the database node; also the manager, so nodes 2 and 3 are promoted to
  managers first, as step 1 of "Three hosts" advises); on node 2, now the manager, the
  db label moves to node 3 and the latest backup is restored there (`restore --force`).
  Measured: the data-loss window (acknowledged posts lost: those acknowledged between
  the backup's snapshot and the loss, and how many seconds that was), the downtime, the
  failed requests; checked: every post acknowledged before the backup or after the
  recovery is there, and every photo file the restored rows name is in the bucket.

--record writes the tables into docs/swarm.md (between drill markers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from bench.loadgen import DEFAULT_MIX, LoadDriver
from drills.common import Result, log, phase_seconds
from drills.rolling_deploy import BROKEN_DOCKERFILE
from extagram.testing.cluster import Cluster, ClusterStack
from extagram.testing.s3server import S3Server

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "swarm.md"
V1, V2, BROKEN = "drill-c1", "drill-c2", "drill-cbroken"
DRILLS = ("deploy", "rollback", "scale", "node", "dbnode")
DB_NODE, SPARE_NODE = 1, 3  # the database's node (labelled extagram.db) and where it goes
# failed requests after a worker's engine stops must all fall within this many seconds:
# the manager marks a silent node Down after its heartbeat period (5 s) times the grace
# multiplier (and up to one more period), then reschedules; 10-13 s and 17-21 s were seen
# here (CONTAINERS-IN-CI.md step 9). 60 s leaves room for a loaded 2-core machine.
NODE_LOSS_BOUND = 60.0
# the load: the bench's mix, and the photos the pages name fetched as a browser does
# (through the proxy from the media tier), a few for each page
LOAD_MIX = {**DEFAULT_MIX, "photo": 100}
# one media task per node (EXTAGRAM_MEDIA_REPLICAS, at most one per node): a lost node
# then always takes one of them, and the node drill measures the photos served meanwhile
MEDIA_REPLICAS = 3
# the proxy keeps a photo 1 s (60 by default), so the load's photos reach the media tier
# (revalidated there) as a new photo's do: with 60 s, every one after the stop was a HIT
PROXY_MEDIA_CACHE = {"EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS": "1"}


def push_images(cluster: Cluster):
    """V1 and V2 (same source, another version label) and BROKEN (app and static) to the
    registry."""
    if os.environ.get("DRILL_NO_BUILD"):
        return
    env = {**os.environ}
    subprocess.run(["bash", str(REPO / ".ci/cluster.sh"), "push", V1, V2], check=True, env=env)
    push = cluster.values["CLUSTER_REGISTRY_PUSH"]
    base, broken = f"{push}/extagram/app:{V1}", f"{push}/extagram/app:{BROKEN}"
    log(f"building {BROKEN}: {base} with a health check that always fails")
    dockerfile = BROKEN_DOCKERFILE.format(base=base, version=BROKEN).encode()
    subprocess.run(
        ["docker", "build", "-q", "-t", broken, "-"],
        input=dockerfile,
        check=True,
        stdout=subprocess.DEVNULL,
        env={**env, "DOCKER_BUILDKIT": "0"},
    )
    subprocess.run(["docker", "push", "-q", broken], check=True, stdout=subprocess.DEVNULL)
    # deploy rolls static first: BROKEN's static files are V1's, served fine
    static = f"{push}/extagram/static:{BROKEN}"
    subprocess.run(["docker", "tag", f"{push}/extagram/static:{V1}", static], check=True)
    subprocess.run(["docker", "push", "-q", static], check=True, stdout=subprocess.DEVNULL)


class Drills:
    def __init__(self, stack: ClusterStack, args, work: Path):
        self.stack = stack
        self.args = args
        self.work = work
        self.wait = phase_seconds(args)

    def ops(self, *args, timeout=600):
        """`extagram-ops --swarm STACK ARGS` on the manager, with every node's engine named
        in EXTAGRAM_OPS_NODE_HOSTS (for backup/restore): (CompletedProcess, seconds)."""
        cmd = [sys.executable, "-m", "extagram_ops.cli", "--swarm", self.stack.name, *args]
        cluster = self.stack.cluster
        env = {
            **os.environ,
            **self.stack.env,
            "DOCKER_HOST": cluster.host(cluster.manager),
            "EXTAGRAM_OPS_NODE_HOSTS": ",".join(
                f"{cluster.hostname(n)}={cluster.host(n)}" for n in (1, 2, 3)
            ),
            "EXTAGRAM_OPS_STATE_DIR": str(self.work / "ops-state"),
        }
        log("$ extagram-ops --swarm " + self.stack.name + " " + " ".join(args))
        started = time.monotonic()
        result = subprocess.run(
            cmd,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        print(result.stdout, end="", file=sys.stderr)
        return result, time.monotonic() - started

    def load(self, users=4, rate=10.0):
        return LoadDriver(
            self.stack.base_url,
            users=users,
            mix=LOAD_MIX,
            rate=rate,
            duration=1800,
            max_requests=200_000,
            phase="before",
            timeout=30.0,
        ).start()

    def served(self, n=12):
        """{(version, replica)} of n uncached app requests (/healthz)."""
        client = self.stack.client(timeout=15)
        out = set()
        for _ in range(n):
            try:
                response = client.get("/healthz")
            except OSError:
                continue
            if response.status == 200:
                out.add((response.header("X-Extagram-Version"), response.header("X-Served-By")))
        return out

    def versions(self):
        return {v for v, _ in self.served()}

    def killed_unhealthy(self) -> dict[str, int]:
        """{service: tasks the engine killed for a failing healthcheck}, as far as the
        manager remembers tasks (`docker stack ps`, five per slot by default)."""
        counts = Counter(
            t["Name"].split(".")[0].split("_", 1)[1]
            for t in self.stack.tasks(running=False)
            if "unhealthy" in (t.get("Error") or "")
        )
        return dict(counts)

    def under_load(self, result, event, after=None):
        try:
            killed_before = self.killed_unhealthy()
        except Exception:  # the count is a note, never the drill's failure
            killed_before = None
        driver = self.load()
        try:
            time.sleep(self.wait)
            driver.mark("during")
            event(driver)
            driver.mark("after")
            time.sleep(self.wait if after is None else after)
        finally:
            summary = driver.stop()
        result.summary = summary
        if killed_before is not None:
            try:
                killed = Counter(self.killed_unhealthy())
                killed.subtract(killed_before)
                shown = {k: n for k, n in killed.items() if n > 0}
                result.note(f"tasks killed by the engine as unhealthy meanwhile: {shown or 'none'}")
            except Exception as error:  # a note only
                result.note(f"unhealthy kills not counted ({type(error).__name__})")
        return summary

    def note_failures(self, result, summary):
        """Which requests failed, how long they took and when (for the table's notes)."""
        failed = [r for r in summary.records if r.outcome == "error"]
        if failed:
            shown = ", ".join(
                f"{r.kind} {r.error} after {r.latency_ms / 1000:.1f}s at t={r.t:.0f}s ({r.phase})"
                for r in failed[:6]
            )
            result.note(f"failed requests ({len(failed)}): {shown}")

    def check_uploads(self, result, summary):
        self.note_failures(result, summary)
        posts = self.stack.post_ids()
        missing = [u.post_id for u in summary.uploads if u.post_id not in posts]
        result.check(
            "acknowledged uploads present",
            not missing,
            f"{len(summary.uploads)} acknowledged, missing {missing[:5]}",
        )
        self.check_photos_in_bucket(result, "the database names", "swept later")

    def check_photos_in_bucket(self, result, rows, extra_objects):
        """Check that every photo file the database's rows name is in the bucket; objects
        no row names are counted, explained by `extra_objects`."""
        in_db, in_bucket = self.stack.database_photos(), self.stack.bucket_photos()
        lost = sorted(in_db - in_bucket)
        result.check(
            f"every photo file {rows} is in the bucket",
            not lost,
            f"{len(in_db)} files in rows, {len(in_bucket)} objects, missing {lost[:3]}; "
            f"{len(in_bucket - in_db)} objects no row names ({extra_objects})",
        )

    # ------------------------------------------------------------------ the drills
    def deploy(self, result):
        before = self.versions()
        took = {}

        def event(_driver):
            res, took["s"] = self.ops("deploy", V2, "--timeout", "600")
            took["rc"] = res.returncode

        summary = self.under_load(result, event)
        after = self.versions()
        result.check_no_errors(summary)
        result.check("deploy exit 0", took.get("rc") == 0, f"exit {took.get('rc')}")
        result.check(f"served version {V2}", after == {V2}, f"{sorted(before)} -> {sorted(after)}")
        self.check_uploads(result, summary)
        result.note(f"`extagram-ops --swarm STACK deploy {V2}` took {took.get('s', 0):.1f}s")

    def rollback(self, result):
        took = {}

        def event(_driver):
            res, took["s"] = self.ops("deploy", BROKEN, "--timeout", "600")
            took["rc"], took["out"] = res.returncode, res.stdout

        summary = self.under_load(result, event)
        state = (self.stack.spec("app").get("UpdateStatus") or {}).get("State")
        image = self.stack.spec("app")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        after = self.versions()
        result.check_no_errors(summary)
        result.check(
            "the engine rolled app back by itself",
            state == "rollback_completed",
            f"app UpdateStatus.State {state}",
        )
        result.check(
            f"deploy {BROKEN} reported as failed (exit 1)",
            took.get("rc") == 1,
            f"exit {took.get('rc')} after {took.get('s', 0):.1f}s",
        )
        result.check(
            f"still serving {V2}, spec back on it",
            after == {V2} and f":{V2}@" in image,
            f"{sorted(after)}; {image.rsplit('/', 1)[-1][:40]}",
        )
        self.check_uploads(result, summary)

    def scale(self, result):
        seen = {}

        def event(driver):
            _r, seen["up"] = self.ops("scale", "app=6", "--timeout", "600")
            driver.mark("at-6")
            time.sleep(6)  # the proxy re-resolves the app's name every 5 s (valid=5s)
            seen["at6"] = {r for _v, r in self.served(60)}
            seen["nodes6"] = sorted(self.stack.running_nodes("app"))
            time.sleep(self.wait)
            driver.mark("scale-down")
            _r, seen["down"] = self.ops("scale", "app=2", "--timeout", "600")

        summary = self.under_load(result, event)
        time.sleep(6)  # as after scaling up: the proxy re-resolves the app's name every 5 s
        after = {r for _v, r in self.served(30)}
        result.check_no_errors(summary)
        result.check(
            "six replicas answer, spread over the three nodes",
            len(seen.get("at6", ())) == 6 and len(set(seen.get("nodes6", ()))) == 3,
            f"{len(seen.get('at6', ()))} answering; nodes {seen.get('nodes6')}",
        )
        running = len(self.stack.running_nodes("app"))
        result.check(
            "back to two", running == 2 and len(after) == 2, f"{running} running, {len(after)}"
        )
        self.check_uploads(result, summary)
        result.note(
            f"scale app=6 took {seen.get('up', 0):.1f}s, app=2 took {seen.get('down', 0):.1f}s"
        )

    def node(self, result):
        cluster = self.stack.cluster
        seen = {}
        victims = {
            t["Name"]: t["Node"]
            for t in self.stack.tasks()
            if t["Node"] == cluster.hostname(3) and t["CurrentState"].startswith("Running")
        }
        # one media task per node: node 3's has nowhere to go while the node is lost
        media = [name for name in victims if name.split(".")[0].endswith("_media")]
        for name in media:
            del victims[name]

        def event(driver):
            started = time.monotonic()
            cluster.node_down(3)
            seen["stopped_at"] = driver._now()
            log(f"node 3 stopped ({time.monotonic() - started:.1f}s); waiting for Down")
            while cluster.node_state(3) != "down" and time.monotonic() - started < 120:
                time.sleep(0.5)
            seen["down"] = time.monotonic() - started
            while time.monotonic() - started < 240:
                tasks = self.stack.tasks()
                moved = all(
                    any(
                        t["Name"] == name
                        and t["Node"] != cluster.hostname(3)
                        and t["CurrentState"].startswith("Running")
                        for t in tasks
                    )
                    for name in victims
                )
                if moved:
                    break
                time.sleep(1)
            seen["moved"] = time.monotonic() - started

        summary = self.under_load(result, event, after=max(self.wait, 20))
        stopped_at = seen.get("stopped_at", 0)
        failed = [r for r in summary.records if r.outcome == "error"]
        late = [r for r in failed if r.t - stopped_at > NODE_LOSS_BOUND]
        window = max((r.t - stopped_at for r in failed), default=0.0)
        result.check(
            f"failed requests bounded: none later than {NODE_LOSS_BOUND:.0f}s after the stop",
            not late,
            f"{len(failed)} failed of {summary.total} "
            f"({summary.errors_by_kind() or 'none'}); last {window:.1f}s after the stop",
        )
        result.check(
            "node 3 marked Down, its tasks running on nodes 1-2",
            seen.get("down", 999) < 120 and seen.get("moved", 999) < 240,
            f"Down after {seen.get('down', 0):.1f}s; {len(victims)} tasks "
            f"({', '.join(sorted(n.split('.')[0].split('_', 1)[1] for n in victims))}) "
            f"running elsewhere after {seen.get('moved', 0):.1f}s",
        )
        photos = [r for r in summary.records if r.kind == "photo" and r.t >= stopped_at]
        lost = [r for r in photos if r.outcome == "error"]
        # the proxy's edge cache answers most: only its misses reach the media tier
        tier = [r for r in photos if r.cache != "HIT"]
        result.note(
            f"photos fetched after the stop: {len(photos)}, {len(tier)} of them from the "
            f"media tier (X-Cache {dict(Counter(r.cache for r in tier))}); "
            f"{len(lost)} failed ({Counter(r.error for r in lost).most_common() or 'none'}); "
            f"media tasks on node 3 lost: {len(media)} of {MEDIA_REPLICAS}"
        )
        self.check_uploads(result, summary)
        back = cluster.node_up(3)
        result.note(
            f"node 3 started again, Ready after {back:.1f}s (gets tasks at the next update)"
        )

    def dbnode(self, result):
        """The database node lost under load; recovered by restoring the latest backup
        onto another node (docs/swarm.md, "Losing the database node")."""
        cluster, stack = self.stack.cluster, self.stack
        seen = {}
        backup_dir = self.work / "backups" / "latest"
        make_managers(cluster, (2, 3))

        def event(driver):
            # posts acknowledged before the backup (the backup must hold some), then
            # after it (the writes the loss takes): at least 3 each, or 2 minutes
            wait_for_uploads(driver, 3, max(self.wait, 10), 120)
            seen["backup_at"] = driver._now()
            res, seen["backup_s"] = self.ops(
                "backup", "--database-only", str(backup_dir), timeout=900
            )
            seen["backup_rc"], seen["backup_out"] = res.returncode, res.stdout
            driver.mark("after-backup")
            wait_for_uploads(driver, 3, max(self.wait, 10), 120, since=seen["backup_at"])
            driver.mark("db-node-lost")
            started = time.monotonic()
            seen["stopped_at"] = driver._now()
            cluster.node_down(DB_NODE)
            cluster.manager = 2
            log(f"node {DB_NODE} (database, manager) stopped; node 2 is the manager now")
            while cluster.node_state(DB_NODE) != "down" and time.monotonic() - started < 120:
                time.sleep(0.5)
            seen["down"] = time.monotonic() - started
            # the recovery, as an operator does it (docs/swarm.md, "Losing the database
            # node"): users out (the proxy's "back in a moment"), the label moved, the
            # database restored on its new node, users back
            app, upload = stack.service("app"), stack.service("upload")
            cluster.docker("service", "scale", "--detach", f"{app}=0", f"{upload}=0")
            old, new = cluster.hostname(DB_NODE), cluster.hostname(SPARE_NODE)
            cluster.docker("node", "update", "--label-rm", "extagram.db", old)
            cluster.docker("node", "update", "--label-add", "extagram.db=true", new)
            log(f"app and upload scaled to 0; db label moved {old} -> {new}; waiting")
            while time.monotonic() - started < 600:
                writers = stack.running_nodes("app") + stack.running_nodes("upload")
                if new in stack.running_nodes("db") and not writers:
                    break
                time.sleep(1)
            seen["db_running"] = time.monotonic() - started
            driver.mark("restore")
            res, seen["restore_s"] = self.ops("restore", str(backup_dir), "--force", timeout=900)
            seen["restore_rc"], seen["restore_out"] = res.returncode, res.stdout
            seen["restored_at"] = driver._now()
            cluster.docker("service", "scale", "--detach", f"{app}=2", f"{upload}=2")
            while time.monotonic() - started < 900:
                if len(stack.running_nodes("app")) >= 2 and len(stack.running_nodes("upload")) >= 2:
                    break
                time.sleep(1)
            seen["recovered"] = time.monotonic() - started
            seen["serving_at"] = driver._now()
            driver.mark("after")

        summary = self.under_load(result, event, after=max(self.wait, 20))
        stopped_at = seen.get("stopped_at", 0.0)
        restored_at = seen.get("serving_at", stopped_at)
        backup_at = seen.get("backup_at", 0.0)
        manifest = {}
        if (backup_dir / "manifest.json").exists():
            manifest = json.loads((backup_dir / "manifest.json").read_text())
        result.check(
            "backup of a stack with a bucket: the database only, and it says so",
            seen.get("backup_rc") == 0
            and manifest.get("contents") == "database"
            and "NOT in this backup" in seen.get("backup_out", ""),
            f"exit {seen.get('backup_rc')}, {seen.get('backup_s', 0):.1f}s; "
            f"contents {manifest.get('contents')!r}, photos in bucket "
            f"{(manifest.get('photos') or {}).get('bucket')!r}",
        )
        result.check(
            f"node {DB_NODE} Down; the database running on node {SPARE_NODE}; restore exit 0",
            seen.get("restore_rc") == 0
            and cluster.hostname(SPARE_NODE) in stack.running_nodes("db"),
            f"Down after {seen.get('down', 0):.1f}s, db running on node {SPARE_NODE} (app and "
            f"upload at 0) after {seen.get('db_running', 0):.1f}s, restore took "
            f"{seen.get('restore_s', 0):.1f}s (exit {seen.get('restore_rc')}), two app and two "
            f"upload tasks serving {seen.get('recovered', 0):.1f}s after the stop",
        )
        # the data-loss window: what was acknowledged between the backup and the loss.
        # Posts are told apart by caption, not id: after the restore the database hands
        # out the lost posts' ids again.
        captions = stack.post_captions()
        acked = uploads_acknowledged(summary.records)  # [(caption, acknowledged at)]
        before = [c for c, t in acked if t < backup_at]
        window = [c for c, t in acked if backup_at <= t < stopped_at]
        later = [c for c, t in acked if t >= stopped_at]
        lost = [c for c in window if c not in captions]
        last = max((t for c, t in acked if c in lost), default=None)
        result.check(
            "every post acknowledged before the backup, or after the loss, is there",
            all(c in captions for c in before + later),
            f"before the backup {len(before)} acknowledged, "
            f"{sum(c not in captions for c in before)} missing; after the stop "
            f"{len(later)} acknowledged, {sum(c not in captions for c in later)} missing",
        )
        snapshot = manifest.get("created_at", "?")
        result.note(
            f"data-loss window: {len(lost)} of the {len(window)} posts acknowledged between "
            f"the backup's start and the loss are gone (everything else written then too: "
            f"sign-ups, likes, comments); the backup started {stopped_at - backup_at:.1f}s "
            f"before the node stopped (dump snapshot {snapshot})"
            + (
                f"; the last lost post was acknowledged {stopped_at - last:.1f}s before the stop"
                if last is not None
                else ""
            )
        )
        failed = [r for r in summary.records if r.outcome == "error"]
        during = [r for r in failed if stopped_at <= r.t <= restored_at]
        after = [r for r in failed if r.t > restored_at]
        ahead = [r for r in failed if r.t < stopped_at]
        # what users saw: from the first failed request after the stop to the end of the
        # last one that failed before the restore was over
        outage = (
            max(r.t + r.latency_ms / 1000 for r in during) - min(r.t for r in during)
            if during
            else 0.0
        )
        result.check(
            "no failed request before the loss (backup under load); downtime measured",
            not ahead,
            f"{len(failed)} failed of {summary.total}: {len(ahead)} before the loss, "
            f"{len(during)} between the stop and the tiers back after the restore "
            f"({_kinds(during)}), {len(after)} after it ({_kinds(after)}); requests failed "
            f"for {outage:.1f}s (first to last failure); stop to serving again "
            f"{restored_at - stopped_at:.1f}s",
        )
        if ahead:
            self.note_failures(result, SimpleNamespace(records=ahead))
        self.check_photos_in_bucket(
            result,
            "the restored rows name",
            "posts lost with the database; the media sweep removes them",
        )
        result.note(f"restore said: {_last_lines(seen.get('restore_out', ''), 4)}")


def uploads_acknowledged(records) -> list[tuple[str, float]]:
    """[(caption, driver seconds when acknowledged)] of the acknowledged uploads. The load
    driver captions an upload "Load test upload N by USER", N counting that user's
    comments and uploads (bench.loadgen._User.serial), so the caption is rebuilt by
    counting them in the order they were sent."""
    serial = Counter()
    out = []
    for r in sorted(records, key=lambda r: r.seq):
        if r.kind in ("comment", "upload"):
            serial[r.user] += 1
        if r.kind == "upload" and r.outcome == "ok" and r.post_id:
            out.append(
                (f"Load test upload {serial[r.user]} by {r.user}", r.t + r.latency_ms / 1000)
            )
    return out


def wait_for_uploads(driver, n, at_least, at_most, since=0.0):
    """Sleep until `n` uploads started after `since` (driver seconds) were acknowledged,
    but at least `at_least` and at most `at_most` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < at_most:
        acked = sum(
            1 for r in list(driver._records) if r.kind == "upload" and r.post_id and r.t >= since
        )
        if acked >= n and time.monotonic() - started >= at_least:
            return
        time.sleep(0.5)


def _kinds(records):
    counts = Counter(f"{r.kind} {r.error}" for r in records)
    return ", ".join(f"{k} ×{n}" for k, n in counts.most_common()) or "none"


def _last_lines(text, n):
    return " / ".join(line.strip() for line in text.strip().splitlines()[-n:])


def make_managers(cluster: Cluster, nodes):
    """Promote `nodes` to managers and wait until the swarm reaches them (three managers
    keep the swarm running when one is lost: docs/swarm.md, "Three hosts" step 1)."""
    for n in nodes:
        cluster.docker("node", "promote", cluster.hostname(n))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = cluster.docker("node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}").stdout
        status = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
        if all(status.get(cluster.hostname(n)) == "Reachable" for n in nodes):
            return
        time.sleep(1)
    raise RuntimeError(f"nodes {nodes} not Reachable managers after 120 s")


def restore_roles(cluster: Cluster, timeout=120):
    """The cluster as .ci/cluster.sh made it: node 1 up, the only manager, with the db
    label; the other nodes workers without it. Retried until it holds (just after node 1
    is back, the managers may refuse changes for a while). RuntimeError if it does not."""
    if cluster.node_state(DB_NODE) != "ready":
        cluster.node_up(DB_NODE)
    cluster.manager = DB_NODE
    deadline = time.monotonic() + timeout
    while True:
        wrong = []
        for n in (1, 2, 3):
            name = cluster.hostname(n)
            labels = cluster.docker(
                "node", "inspect", "-f", "{{json .Spec.Labels}}", name, check=False
            ).stdout
            has_db = '"extagram.db"' in labels
            if n == DB_NODE and not has_db:
                wrong.append(n)
                cluster.docker(
                    "node", "update", "--label-add", "extagram.db=true", name, check=False
                )
            elif n != DB_NODE and has_db:
                wrong.append(n)
                cluster.docker("node", "update", "--label-rm", "extagram.db", name, check=False)
            role = cluster.docker("node", "inspect", "-f", "{{.Spec.Role}}", name, check=False)
            if n != DB_NODE and role.stdout.strip() == "manager":
                wrong.append(n)
                cluster.docker("node", "demote", name, check=False)
        if not wrong:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nodes {sorted(set(wrong))} not back to their roles and labels")
        time.sleep(2)


def main():
    parser = argparse.ArgumentParser(prog="python -m drills.cluster", description=__doc__)
    parser.add_argument("--record", action="store_true", help="write the tables into docs/swarm.md")
    parser.add_argument("--short", action="store_true", help="a few seconds of load per phase")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument("--only", default=",".join(DRILLS), help="comma-separated drills")
    args = parser.parse_args()
    chosen = [d for d in args.only.split(",") if d]
    unknown = set(chosen) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drills: {', '.join(sorted(unknown))}")
    chosen.sort(key=DRILLS.index)  # dbnode last: it moves the database to node 3
    command = "python -m drills.cluster" + (" --short" if args.short else "")
    results = {d: Result(f"cluster-{d}", f"cluster: {d}", command) for d in chosen}
    setup = Result("cluster-setup", "cluster: bring-up and deploy", command)
    cluster, brought_up = Cluster.ensure()
    push_images(cluster)
    s3 = S3Server(host=cluster.gateway).start()
    work = Path(tempfile.mkdtemp(prefix="extagram-cluster-drill-"))
    stack = ClusterStack.prepare(
        cluster, f"xgdrill{os.getpid()}", work, V1, s3=s3, **PROXY_MEDIA_CACHE
    )
    try:
        started = time.monotonic()
        stack.deploy(media_replicas=MEDIA_REPLICAS)
        took = stack.wait_serving(timeout=900)
        setup.check("stack serving on the cluster", True, f"{time.monotonic() - started:.1f}s")
        log(f"stack {stack.name} serving on {stack.base_url} after {took:.1f}s")
        drills = Drills(stack, args, work)
        for name, result in results.items():
            log(f"== drill {name}")
            try:
                getattr(drills, name)(result)
            except Exception as error:  # the report must say what broke
                result.check(
                    "drill ran to the end", False, f"{type(error).__name__}: {error}"[:800]
                )
    except Exception as error:
        setup.check("stack serving on the cluster", False, f"{type(error).__name__}: {error}"[:800])
    finally:
        if cluster.node_state(3) != "ready":
            cluster.node_up(3)
        if not args.keep:
            stack.remove()
        if "dbnode" in chosen and not args.keep:
            restore_roles(cluster)
        s3.stop()
        if not args.keep:  # the stack's secret files and the dbnode drill's backup
            shutil.rmtree(work, ignore_errors=True)
        if brought_up and not os.environ.get("CLUSTER_KEEP"):
            cluster.down()
    ok = setup.ok
    for result in [setup, *results.values()]:
        print(result.text() + "\n")
        result.save_json()
        if args.record and result is not setup:
            result.record(DOC)
        ok = ok and result.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
