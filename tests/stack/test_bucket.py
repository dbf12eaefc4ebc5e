"""Photos in an S3-compatible bucket in the container stack (issue 15).

The stack runs with EXTAGRAM_S3_* set (the key pair as operator-supplied secret files),
against `moto_server` (test scaffolding: extagram.testing.s3server) on this machine. It
listens on the host's address on a Docker bridge network this test creates — never
loopback, which containers cannot reach — so the upload service, the app and the media
tier reach it the way they would reach a bucket's endpoint. Through the front door: an
upload puts exactly the post's objects in the bucket (nothing on the media volume), the
media tier answers the photo from the bucket (same bytes, immutable caching, the tier's
CSP and nosniff, no S3 headers), a missing photo is a 404, and deleting the post removes
its objects and the photo is a 404 again within the caches' bounds. `extagram-ops backup`
of that stack holds the bucket's objects (read through the upload container); after every
object is deleted, `restore` puts them back byte-identical and checks the rows against
them; `backup --database-only` leaves them out and its restore leaves the bucket as it is;
with an object the restored rows name deleted, that restore exits 1 saying so (0 with
--allow-missing-photos).

Own stack (project `extagram-buckettest-<pid>`), not the session one: the storage is
chosen at start. Run time on the CI machine: see the "bucket stack" lines of the report.
"""

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from extagram.testing.images import noisy_jpeg
from extagram.testing.s3server import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from extagram_ops.docker import docker
from extagram_ops.throwaway import REPO, Stack, free_subnet, loopback_env, run_is_alive
from tests.stack.conftest import require_docker, unavailable
from tests.stack.stackhelpers import REPORT, fetch_all_at_once, photo_names

pytestmark = pytest.mark.stack

PREFIX = "extagram-buckettest-"
KEY_PREFIX = "site1"
PHOTO_SRC = re.compile(r'<img class="photo" src="(/media/photos/[^"]+)"')
WEBP_SRC = re.compile(r'<source type="image/webp" srcset="(/media/photos/[0-9a-f/]+\.webp) ')
# how long the media tier and the proxy keep a photo here (defaults: 600 s and 60 s)
MEDIA_CACHE_SECONDS = 3
PROXY_CACHE_SECONDS = 2


def _remove_abandoned_networks():
    """The S3 networks of bucket test runs that died before cleaning up."""
    names = docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    for name in names:
        if name.startswith(PREFIX) and name.endswith("-s3"):
            project = name.removesuffix("-s3")
            if not run_is_alive(project):
                docker("network", "rm", name, check=False)


@pytest.fixture(scope="module")
def bucket_stack():
    """(stack, S3Server, bucket name): a stack whose photos live in a moto bucket."""
    require_docker()
    started = time.monotonic()
    _remove_abandoned_networks()
    project = f"{PREFIX}{os.getpid()}"
    network = f"{project}-s3"
    subnet = free_subnet()
    created = docker("network", "create", "--subnet", subnet, network, check=False)
    if created.returncode != 0:
        unavailable(f"cannot create the bridge for the S3 server: {created.stderr.strip()}")
    gateway = json.loads(docker("network", "inspect", network).stdout)[0]["IPAM"]["Config"][0]
    host = gateway.get("Gateway") or subnet.rsplit(".", 1)[0] + ".1"
    server = None
    secrets_dir = tempfile.TemporaryDirectory(prefix="extagram-buckettest-secrets-")
    stack = None
    try:
        try:
            server = S3Server(host=host).start()
        except (RuntimeError, OSError) as error:
            unavailable(f"moto_server on {host}: {error}")
        bucket = server.new_bucket()
        # what docs/swarm.md tells the operator: anonymous s3:GetObject on photos/ only
        # (the media tier's GETs are unsigned); without it moto answers 403, like S3
        photos = f"arn:aws:s3:::{bucket}/{KEY_PREFIX}/photos/*"
        statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
        policy = {"Version": "2012-10-17", "Statement": [{**statement, "Resource": photos}]}
        server.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        Path(secrets_dir.name, "s3_access_key_id").write_text(ACCESS_KEY + "\n")
        Path(secrets_dir.name, "s3_secret_access_key").write_text(SECRET_KEY + "\n")
        env = loopback_env(
            "buckettest",
            EXTAGRAM_UPLOAD_MAX_MB="2",
            EXTAGRAM_S3_BUCKET=bucket,
            EXTAGRAM_S3_ENDPOINT_URL=server.endpoint_url,
            EXTAGRAM_S3_REGION=REGION,
            EXTAGRAM_S3_ADDRESSING_STYLE="path",
            EXTAGRAM_S3_PREFIX=KEY_PREFIX,
            EXTAGRAM_S3_ACCESS_KEY_ID_FILE="/run/secrets/s3_access_key_id",
            EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE="/run/secrets/s3_secret_access_key",
            EXTAGRAM_SECRETS_DIR=secrets_dir.name,
            EXTAGRAM_MEDIA_CACHE_SECONDS=str(MEDIA_CACHE_SECONDS),
            EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS=str(PROXY_CACHE_SECONDS),
        )
        stack = Stack.create(env, PREFIX)
        if not os.environ.get("STACK_NO_BUILD"):
            built = time.monotonic()
            stack.compose("build", timeout=3600)
            REPORT.append(f"bucket stack: docker compose build {time.monotonic() - built:.1f}s")
        REPORT.append(f"bucket stack: up to all healthy {stack.up():.1f}s")
        yield stack, server, bucket
    finally:
        if stack is not None and not os.environ.get("STACK_KEEP"):
            stack.down()
        if server is not None:
            server.stop()
        docker("network", "rm", network, check=False)
        secrets_dir.cleanup()
        REPORT.append(f"bucket stack: whole module {time.monotonic() - started:.1f}s")


def _post_names(stack, pk):
    """The storage names of post `pk`'s files (JPEGs and WebPs), from the database (in the
    upload role)."""
    code = (
        f"from extagram.posts.models import Post; p = Post.objects.get(pk={int(pk)}); "
        "print(*p.image_names, sep=chr(10))"
    )
    out = stack.exec("upload", "python", "manage.py", "shell", "--no-imports", "-c", code)
    return set(out.split())


def _until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.5)
    return predicate()


def test_a_photo_goes_to_the_bucket_is_served_from_it_and_goes_with_its_post(bucket_stack):
    stack, server, bucket = bucket_stack
    assert server.keys(bucket) == []

    # the key pair never shows in the containers' configuration
    for service in ("app", "upload", "media"):
        for container in stack.containers(service):
            assert SECRET_KEY not in json.dumps(container), f"{service} shows the S3 secret"

    client = stack.client()
    name = "bucket" + secrets.token_hex(4)
    assert client.signup(name, "Correct-Horse-" + secrets.token_hex(6)).status == 302
    photo_bytes = noisy_jpeg(400, 300, seed=secrets.randbits(32))
    response = client.post_multipart(
        "/upload/",
        {"caption": "in a bucket", "alt_text": "noise"},
        {"photo": ("noise.jpg", photo_bytes, "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:500]}"
    pk = int(re.search(r"/p/(\d+)/", response.location).group(1))

    names = _post_names(stack, pk)
    assert names and all(n.startswith("photos/") for n in names), names
    assert server.keys(bucket) == sorted(f"{KEY_PREFIX}/{n}" for n in names)
    on_volume = stack.exec("upload", "sh", "-c", "find /data/media -type f | wc -l")
    assert on_volume.strip() == "0", "a photo file was written to the media volume"

    page = client.get(response.location)
    photo = PHOTO_SRC.search(page.text).group(1)
    assert photo.removeprefix("/media/") in names
    served = stack.client().get(photo)
    assert served.status == 200, served.status
    key = f"{KEY_PREFIX}/{photo.removeprefix('/media/')}"
    stored = server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert served.body == stored and served.body[:3] == b"\xff\xd8\xff"
    assert served.header("Content-Type") == "image/jpeg"
    assert served.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert served.header("X-Extagram-Tier") == "media"
    assert served.headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert "sandbox" in served.header("Content-Security-Policy")
    leaked = [h for h in served.headers if h.lower().startswith(("x-amz", "x-minio"))]
    assert leaked == [], leaked
    assert "werkzeug" not in served.header("Server", "").lower()
    webp = WEBP_SRC.search(page.text).group(1)
    assert webp.removeprefix("/media/") in names
    served = stack.client().get(webp)
    assert served.status == 200 and served.body[8:12] == b"WEBP", served.status
    assert served.header("Content-Type") == "image/webp"
    assert served.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert "amazons3" not in served.header("Server", "").lower()

    # the media tier kept a copy in its bounded cache (the next reads cost the bucket nothing)
    cached = stack.exec("media", "sh", "-c", "find /var/cache/extagram/media -type f | wc -l")
    assert int(cached) >= 1, "the media tier cached nothing"
    REPORT.append(f"bucket stack: media tier memory with a cached photo {stack.memory(('media',))}")

    # a key that is not in the bucket: a plain 404, nothing of S3's answer
    missing = stack.client().get("/media/photos/00/" + "0" * 64 + ".jpg")
    assert missing.status == 404
    assert b"<Error>" not in missing.body and bucket.encode() not in missing.body
    assert "immutable" not in missing.header("Cache-Control", "")

    deleted = client.post_form(f"/p/{pk}/delete/", {}, token_from=f"/p/{pk}/delete/")
    assert deleted.status == 302, f"delete: {deleted.status}"
    assert _until(lambda: server.keys(bucket) == [], 10), server.keys(bucket)
    # gone through the front door once both caches' copies expire
    started = time.monotonic()
    bound = MEDIA_CACHE_SECONDS + PROXY_CACHE_SECONDS + 5
    assert _until(lambda: stack.client().get(photo).status == 404, bound), (
        f"the deleted photo was still served {time.monotonic() - started:.0f} s later"
    )
    REPORT.append(
        f"bucket stack: deleted photo 404 after {time.monotonic() - started:.1f}s "
        f"(caches: media {MEDIA_CACHE_SECONDS}s, proxy {PROXY_CACHE_SECONDS}s)"
    )


def _ops(stack, state_dir, *args):
    """`extagram-ops -p PROJECT ARGS` as an operator runs it: the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "extagram_ops.cli", "-p", stack.project, *args],
        cwd=REPO,
        env={**stack.env, "EXTAGRAM_OPS_STATE_DIR": str(state_dir)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _user_ids(stack):
    """{username: id} of every account."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "for name, pk in get_user_model().objects.values_list('username', 'id'): print(name, pk)"
    )
    out = stack.exec("upload", "python", "manage.py", "shell", "--no-imports", "-c", code)
    return {name: int(pk) for name, pk in (line.split() for line in out.splitlines())}


def _sha256s(server, bucket):
    """{storage name: sha256} of every object in the bucket (the key prefix left off)."""
    client = server.client()
    sums = {}
    for key in server.keys(bucket):
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        sums[key.removeprefix(f"{KEY_PREFIX}/")] = hashlib.sha256(body).hexdigest()
    return sums


def test_a_backup_holds_the_bucket_s_photos_and_a_restore_puts_them_back(bucket_stack, tmp_path):
    stack, server, bucket = bucket_stack
    client = stack.client()
    password = "Correct-Horse-" + secrets.token_hex(6)
    kept, later = "kept" + secrets.token_hex(3), "later" + secrets.token_hex(3)
    assert client.signup(kept, password).status == 302
    response = client.post_multipart(
        "/upload/",
        {"caption": "backed up", "alt_text": "noise"},
        {"photo": ("noise.jpg", noisy_jpeg(320, 240, seed=secrets.randbits(32)), "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:300]}"
    pk = int(re.search(r"/p/(\d+)/", response.location).group(1))
    names = _post_names(stack, pk)
    in_bucket = _sha256s(server, bucket)
    assert names <= set(in_bucket)

    started = time.monotonic()
    made = _ops(stack, tmp_path / "state", "backup", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr[-3000:]
    took = time.monotonic() - started
    REPORT.append(f"bucket stack: backup with the bucket's photos {took:.1f}s")
    assert f"copying the photo files from the S3 bucket {bucket!r}" in made.stderr
    assert f"media files: {len(in_bucket)} (from the S3 bucket {bucket!r}" in made.stdout
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "db.sql.gz",
        "manifest.json",
        "media.tar",
    ]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["contents"] == "database+media"
    assert manifest["photos"]["in_backup"] is True and manifest["photos"]["bucket"] == bucket
    assert manifest["media"]["files"] == in_bucket  # the same sha256 as the bucket's bytes
    checked = _ops(stack, tmp_path / "state", "backup", "--verify", str(tmp_path / "b"))
    assert checked.returncode == 0, checked.stderr

    # the loss: every object gone, and an account made after the backup
    assert stack.client().signup(later, password).status == 302
    later_id = _user_ids(stack)[later]
    s3 = server.client()
    for key in server.keys(bucket):
        s3.delete_object(Bucket=bucket, Key=key)
    started = time.monotonic()
    restored = _ops(stack, tmp_path / "state", "restore", str(tmp_path / "b"), "--force")
    assert restored.returncode == 0, restored.stderr[-3000:]
    REPORT.append(f"bucket stack: restore into the bucket {time.monotonic() - started:.1f}s")
    assert f"{len(in_bucket)} written, 0 already there" in restored.stderr, restored.stderr[-2000:]
    assert f"name {len(names)} photo files, all in" in restored.stderr, restored.stderr[-2000:]
    assert "photos vs rows: " in restored.stdout
    assert _sha256s(server, bucket) == in_bucket, "the photos did not come back identical"
    users = set(_user_ids(stack))
    assert kept in users and later not in users, users
    # an id handed out after the backup is not handed out again (old links, old exports)
    newer = "newer" + secrets.token_hex(3)
    assert stack.client().signup(newer, password).status == 302
    assert _user_ids(stack)[newer] > later_id
    assert "ids handed out since the backup stay unused" in restored.stderr
    page = stack.client().get(f"/p/{pk}/")
    assert page.status == 200
    assert stack.client().get(PHOTO_SRC.search(page.text).group(1)).status == 200

    # --database-only: for frequent backups of a big bucket; its restore leaves the bucket
    made = _ops(stack, tmp_path / "state", "backup", "--database-only", str(tmp_path / "d"))
    assert made.returncode == 0, made.stderr[-3000:]
    assert "NOT in this backup" in made.stderr and "photos: NOT in this backup" in made.stdout
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["db.sql.gz", "manifest.json"]
    assert json.loads((tmp_path / "d" / "manifest.json").read_text())["contents"] == "database"
    started = time.monotonic()
    restored = _ops(stack, tmp_path / "state", "restore", str(tmp_path / "d"), "--force")
    assert restored.returncode == 0, restored.stderr[-3000:]
    REPORT.append(f"bucket stack: database-only restore {time.monotonic() - started:.1f}s")
    assert "restoring the database; the photos stay in" in restored.stderr
    assert f"name {len(names)} photo files, all in" in restored.stderr, restored.stderr[-2000:]
    assert _sha256s(server, bucket) == in_bucket, "a database-only restore touched the bucket"

    # an object the restored rows name is gone (a post's photo deleted after the backup,
    # say): the restore is not a success. It exits 1 naming the count, an example and the
    # fix; --allow-missing-photos accepts the loss
    lost = sorted(names)[0]
    s3.delete_object(Bucket=bucket, Key=f"{KEY_PREFIX}/{lost}")
    restored = _ops(stack, tmp_path / "state", "restore", str(tmp_path / "d"), "--force")
    assert restored.returncode == 1, restored.stderr[-3000:]
    assert (
        "extagram-ops restore: error: restore incomplete: the restored rows name 1 photo file "
        f"that is not in the S3 bucket {bucket!r}"
    ) in restored.stderr, restored.stderr[-2000:]
    assert lost in restored.stderr and "bucket's versioning" in restored.stderr
    assert "1 missing from the storage" in restored.stdout
    accept = ("restore", str(tmp_path / "d"), "--force", "--allow-missing-photos")
    accepted = _ops(stack, tmp_path / "state", *accept)
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    assert "--allow-missing-photos: 1 missing photo file accepted" in accepted.stderr


def test_a_backup_of_an_older_version_is_restored_at_the_running_versions_schema(
    bucket_stack, tmp_path
):
    # an older version's database: the newest posts migration undone (0007, a column of
    # the comments). Restored as it was, every comment failed on the missing column
    stack, _server, _bucket = bucket_stack

    def manage(*args):
        return stack.exec("upload", "python", "manage.py", *args)

    manage("migrate", "posts", "0006")
    try:
        made = _ops(stack, tmp_path / "state", "backup", "--database-only", str(tmp_path / "old"))
        assert made.returncode == 0, made.stderr[-3000:]
    finally:
        manage("migrate", "posts")
    # (a photo an earlier test deleted from the bucket is still named by the rows)
    restore = ("restore", str(tmp_path / "old"), "--force", "--allow-missing-photos")
    restored = _ops(stack, tmp_path / "state", *restore)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "1 migration applied: the backup came from an older version" in restored.stderr
    assert "[X] 0007_comment_submissions" in manage("showmigrations", "posts")
    client = stack.client()
    password = "Correct-Horse-" + secrets.token_hex(6)
    assert client.signup("late" + secrets.token_hex(3), password).status == 302
    pk = int(re.search(r'href="/p/(\d+)/"', client.get("/explore/").text).group(1))
    commented = client.post_form(
        f"/p/{pk}/comments/", {"body": "after the restore"}, token_from=f"/p/{pk}/"
    )
    assert commented.status == 302, commented.status


def test_a_burst_of_first_fetches_from_the_bucket_gets_every_photo_whole(bucket_stack):
    # The media tier's cache and the proxy's each write a first fetch whole while it
    # arrives: in the media tier's 24-MB /tmp (and the proxy's 32-MB one) a burst of new
    # photos filled the tmpfs and photos came out cut short (docs/performance.md)
    stack, server, bucket = bucket_stack
    files = photo_names(80, 400_000)
    s3 = server.client()
    for name, data in files.items():
        s3.put_object(Bucket=bucket, Key=f"{KEY_PREFIX}/{name}", Body=data)
    try:
        outcomes = fetch_all_at_once(stack, [f"/media/{name}" for name in files])
    finally:
        for name in files:
            s3.delete_object(Bucket=bucket, Key=f"{KEY_PREFIX}/{name}")
    assert outcomes == [(200, 400_000)] * len(files)


def test_a_restart_empties_the_media_tiers_cache(bucket_stack):
    # a cached photo would keep the lifetime it was cached with, and a dead worker's
    # half-written files would stay (the cache is on a volume): emptied at each start
    stack, _, _ = bucket_stack
    stack.exec(
        "media",
        "sh",
        "-c",
        "mkdir -p /var/cache/extagram/media/x && echo half > $0",
        "/var/cache/extagram/media/x/a.0000000001",
    )
    stack.compose("restart", "media")
    stack.wait_healthy()
    assert stack.exec("media", "find", "/var/cache/extagram", "-type", "f") == ""
