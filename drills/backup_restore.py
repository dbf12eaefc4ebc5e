"""Drill 7: backup under load, destroy the stack and its volumes, restore into a new one.

    python -m drills.backup_restore [--short] [--record]

Stack A under load: `extagram-ops backup DIR` during the load; `backup --verify DIR`;
A is destroyed (`docker compose down -v`: database, media, secrets gone). A new, empty
stack B (new port, new secrets): `extagram-ops restore DIR`, which itself checks that a
fresh dump of B's database is identical to the backup's and that every media file has
its sha256. The drill then checks through B's proxy that every upload acknowledged
before the backup started is there with its photo, that a user of the load can log in
with the same password, and that a second restore without --force is refused.
"""

import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from drills.common import (
    REPO,
    log,
    main,
    new_stack,
    running_stack,
    stack_env,
    under_load,
)
from extagram.testing.images import noisy_jpeg
from extagram_ops.docker import OpsError

TITLE = "backup under load, destroy, restore into a new stack"
IMG_RE = re.compile(r'src="(/media/[^"]+)"')


def run(result, args):
    folder = Path(tempfile.mkdtemp(prefix="extagram-drill-backup-", dir=REPO / "test-artifacts"))
    dest = folder / "backup"
    try:
        with running_stack("backup", args) as stack_a:
            run_on(stack_a, result, args, dest, restore_into=None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def distinct_photos(stack, count=6):
    """The load uploads one photo many times; add a few different ones (distinct files)."""
    client = stack.client()
    # Right after the deploy drill on a shared stack one sign-up was seen not to log in
    # (cause not yet known); try again under a new name rather than fail the backup drill.
    for attempt in range(3):
        signed_up = client.signup(
            f"drill_photographer{attempt}", "drill-" + secrets.token_urlsafe(12)
        )
        if signed_up.status in (302, 303):
            break
        log(f"sign-up answered {signed_up.status}; trying again")
        time.sleep(2)
    ids = []
    for seed in range(count):
        photo = noisy_jpeg(320 + seed * 16, 240, seed=seed)
        response = client.post_multipart(
            "/upload/",
            {"caption": f"drill photo {seed}", "alt_text": "noise"},
            {"photo": (f"drill-{seed}.jpg", photo, "image/jpeg")},
        )
        match = re.search(r"/p/(\d+)/", response.location or "")
        if response.status in (302, 303) and match:
            ids.append(int(match.group(1)))
    return ids


def run_on(stack_a, result, args, dest, restore_into=None):
    """Back up stack_a under load, destroy it, restore into restore_into (or a new stack)."""
    info = {}
    posts = 500 if getattr(args, "short", False) else 20000
    log(f"seeding {posts} posts (manage.py seed_posts) so the dump has some size")
    try:
        stack_a.seed_posts(posts, 100, timeout=900)
        result.check("seeded posts", True)
    except OpsError as error:
        result.check("seeded posts", False, str(error)[-300:])
    photo_ids = distinct_photos(stack_a)
    result.check("distinct photos uploaded before the load", len(photo_ids) == 6, photo_ids)

    def event(driver):
        info["backup_t"] = time.monotonic() - driver._t0
        info["driver"] = driver
        _res, info["backup_s"] = stack_a.ops_cli("backup", str(dest))

    summary = under_load(stack_a, result, args, event)
    result.check_no_errors(summary, "zero failed requests during the backup")
    verify, _t = stack_a.ops_cli("backup", "--verify", str(dest), check=False)
    result.check("backup --verify", verify.returncode == 0, f"exit {verify.returncode}")
    # acknowledged before the backup started: a slow upload started earlier was seen
    # committed after the dump's snapshot, and rightly not in it
    acked = [u for u in summary.uploads if u.acked_t < info["backup_t"]]
    driver = info["driver"]
    log(f"destroying {stack_a.project} with its volumes")
    stack_a.down()
    stack_b = restore_into
    own_b = stack_b is None
    if own_b:
        stack_b = new_stack("restored", build=False, env=stack_env())
    try:
        restored, restore_s = stack_b.ops_cli("restore", str(dest), check=False)
        result.check(
            "restore into the new stack (checksums verified)",
            restored.returncode == 0,
            f"exit {restored.returncode} in {restore_s:.1f}s",
        )
        missing, photos_bad = [], []
        for post_id in photo_ids + [u.post_id for u in acked]:
            status, _h, body = stack_b.get(f"/p/{post_id}/")
            if status != 200:
                missing.append(post_id)
                continue
            match = IMG_RE.search(body.decode("utf-8", "replace"))
            if not match or stack_b.get(match.group(1))[0] != 200:
                photos_bad.append(post_id)
        result.check(
            "uploads acknowledged before the backup: posts and photos back",
            not missing and not photos_bad,
            f"{len(photo_ids)} distinct photos + {len(acked)} load uploads checked; "
            f"missing posts {missing[:5]}, photos {photos_bad[:5]}",
        )
        client = stack_b.client()
        username = driver.username(0)
        login = client.login(username, driver.password)
        result.check(
            "a user logs in on the restored stack",
            login.status == 302,
            f"{username}: {login.status} {login.location}",
        )
        again, _t = stack_b.ops_cli("restore", str(dest), check=False)
        result.check(
            "restore into a non-empty stack refused without --force",
            again.returncode == 1,
            f"exit {again.returncode}",
        )
        manifest = (dest / "manifest.json").read_text()
        import json

        data = json.loads(manifest)
        tables = data["db"]["tables"]
        rows = {t: n for t, n in tables.items() if not t.startswith(("django_", "auth_perm"))}
        result.note(
            f"backup took {info['backup_s']:.1f}s; restore {restore_s:.1f}s; backup held "
            f"rows {rows} and {data['media']['count']} media files"
        )
    finally:
        if own_b and not (getattr(args, "keep", False)):
            stack_b.down()


if __name__ == "__main__":
    sys.exit(main("backup_restore", TITLE, run))
