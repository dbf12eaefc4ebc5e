"""Backups: a consistent database dump plus the media files, with a checksum manifest.

Layout of a backup (a directory, written under a temporary name and renamed when done):

    manifest.json   format, date, project, versions, sha256 + size of each file below,
                    rows per table, sha256 of every media file; "contents" says what is
                    in it ("database+media", or "database" when the photos are in a
                    bucket: then "photos" names the bucket and says they are not in it)
    db.sql.gz       mariadb-dump --single-transaction (a consistent snapshot read through
                    InnoDB's MVCC: writers are never locked out), one INSERT per row
    media.tar       the media volume (absent from a database-only backup)

When the stack's photos are in an S3 bucket (EXTAGRAM_S3_BUCKET) the media volume is
empty and the photos are kept by the bucket's own versioning and replication
(docs/swarm.md, "Backups with a bucket"): a backup is then the database only, and says
so in its output and manifest; restoring it loads the database only, into a stack whose
photos are in a bucket (never into one that keeps them on the volume).

The dump runs inside the db container, as its own user, with the root password read
from the secrets volume into MYSQL_PWD in that container: it is never printed, never on
a command line and never leaves the container.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
from pathlib import Path

from extagram_ops.docker import OpsError, Project, progress

FORMAT = "extagram-backup/1"
CHUNK = 1 << 20
DB_NAME = "extagram"
DB_CLIENT = (
    "pw=$(cat /run/secrets/db_root_password) || exit 1; "
    'bin=$(command -v {tool} || command -v {fallback}) || {{ echo "no {tool}" >&2; exit 1; }}; '
    'MYSQL_PWD="$pw" exec "$bin" --user=root --default-character-set=utf8mb4 "$@"'
)
DUMP_ARGS = (
    "--single-transaction",
    "--quick",
    "--skip-extended-insert",
    "--skip-dump-date",
    "--routines",
    "--triggers",
    "--hex-blob",
    "--no-tablespaces",
    DB_NAME,
)
INSERT_RE = re.compile(rb"^INSERT INTO `([^`]+)`")
MEDIA_DIR = "/data/media"
MEDIA_SUMS = (
    "import hashlib, json, os, sys\n"
    "root = sys.argv[1]; out = {}\n"
    "for d, _, files in os.walk(root):\n"
    "    for f in files:\n"
    "        p = os.path.join(d, f); h = hashlib.sha256()\n"
    "        with open(p, 'rb') as fh:\n"
    "            for chunk in iter(lambda: fh.read(1 << 20), b''): h.update(chunk)\n"
    "        out[os.path.relpath(p, root)] = h.hexdigest()\n"
    "print(json.dumps(out))\n"
)


def _client(tool: str, fallback: str) -> list[str]:
    return ["sh", "-c", DB_CLIENT.format(tool=tool, fallback=fallback), "sh"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


class DumpDigest:
    """sha256 of a dump without its comment lines (server host/version, dates), row counts."""

    def __init__(self):
        self.hash = hashlib.sha256()
        self.rows: dict[str, int] = {}
        self.completed = False
        self._rest = b""

    def feed(self, data: bytes) -> None:
        data = self._rest + data
        lines = data.split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            self._line(line)

    def _line(self, line: bytes) -> None:
        if line.startswith(b"-- Dump completed"):
            self.completed = True
        if line.startswith(b"--"):
            return
        self.hash.update(line + b"\n")
        match = INSERT_RE.match(line)
        if match:
            table = match.group(1).decode()
            self.rows[table] = self.rows.get(table, 0) + 1

    def finish(self) -> str:
        if self._rest:
            self._line(self._rest)
            self._rest = b""
        return self.hash.hexdigest()


def _chunks(path: Path, gunzip: bool = False):
    opener = gzip.open if gunzip else open
    with opener(path, "rb") as fh:
        yield from iter(lambda: fh.read(CHUNK), b"")


def db_version(project: Project) -> str:
    db = project.one("db")
    out = project.exec(
        db, *_client("mariadb", "mysql"), "-N", "-B", "-e", "SELECT VERSION()", check=False
    )
    return out.stdout.strip() if out.returncode == 0 else "?"


def dump_db(project: Project, dest: Path) -> dict:
    db = project.one("db")
    digest = DumpDigest()
    size = [0]
    with gzip.open(dest, "wb", compresslevel=6) as out:

        def sink(chunk):
            out.write(chunk)
            digest.feed(chunk)
            size[0] += len(chunk)

        project.stream(db.id, [*_client("mariadb-dump", "mysqldump"), *DUMP_ARGS], sink)
    sql_sha = digest.finish()
    if not digest.completed:
        raise OpsError("the database dump ended early (no 'Dump completed' line)")
    return {"sql_sha256": sql_sha, "sql_bytes": size[0], "tables": digest.rows}


def redump_digest(project: Project) -> DumpDigest:
    db = project.one("db")
    digest = DumpDigest()
    project.stream(db.id, [*_client("mariadb-dump", "mysqldump"), *DUMP_ARGS], digest.feed)
    digest.finish()
    return digest


def media_sums_live(project: Project) -> dict[str, str]:
    upload = project.one("upload")
    out = project.exec(upload, "python", "-c", MEDIA_SUMS, MEDIA_DIR, timeout=1800)
    return json.loads(out.stdout)


def media_sums_tar(path: Path) -> dict[str, str]:
    sums = {}
    with tarfile.open(path, "r:") as tar:
        for member in tar:
            if member.isfile():
                h = hashlib.sha256()
                fh = tar.extractfile(member)
                for chunk in iter(lambda fh=fh: fh.read(CHUNK), b""):
                    h.update(chunk)
                sums[os.path.normpath(member.name)] = h.hexdigest()
    return sums


def photo_bucket(project: Project) -> str:
    """The S3 bucket the stack's photos are in (EXTAGRAM_S3_BUCKET of its running upload
    container), or "" when they are on the media volume. OpsError if upload is not running."""
    return photo_storage(project)["bucket"]


def _first_running(project: Project, services) -> object | None:
    for service in services:
        try:
            return project.one(service)
        except OpsError:
            continue
    return None


def photo_storage(project: Project) -> dict:
    """{"bucket", "prefix", "endpoint"} of the stack's photo storage, read from the
    environment of its running upload container (else app's, else media's: an operator
    may have scaled upload and app to 0 to keep users out during a restore; on a swarm,
    else the upload service's spec); "" each when the photos are on the media volume.
    OpsError when none of them runs (Compose)."""
    container = _first_running(project, ("upload", "app", "media"))
    if container is not None:
        out = project.docker("inspect", "-f", "{{json .Config.Env}}", container.id).stdout
        items = json.loads(out or "[]") or []
    elif hasattr(project, "spec_env"):  # a swarm stack: the upload service's spec says
        items = project.spec_env("upload")
    else:
        raise OpsError("no upload, app or media container runs: cannot tell where the photos are")
    env = dict(item.partition("=")[::2] for item in items)
    bucket = env.get("EXTAGRAM_S3_BUCKET", "").strip()
    return {
        "bucket": bucket,
        "prefix": env.get("EXTAGRAM_S3_PREFIX", "").strip() if bucket else "",
        "endpoint": env.get("EXTAGRAM_S3_ENDPOINT_URL", "").strip() if bucket else "",
    }


def _where(storage: dict) -> str:
    where = f"the S3 bucket {storage['bucket']!r}"
    if storage.get("prefix"):
        where += f" (under {storage['prefix']}/)"
    return where


# Run in the upload container (its settings and storage credentials) after a
# database-only restore: how many photo files the restored rows name, and which of them
# the bucket does not hold. Storage is listed one photos/xx/ folder at a time, as the
# media sweep does.
BUCKET_CHECK = (
    "import json\n"
    "from django.core.files.storage import default_storage as s\n"
    "from extagram.accounts.models import Profile\n"
    "from extagram.posts.models import PHOTO_FIELDS, Post\n"
    "named = {n for row in Post.objects.values_list(*PHOTO_FIELDS) for n in row if n}\n"
    "named |= {n for row in Profile.objects.values_list('avatar_large', 'avatar_small')"
    " for n in row if n}\n"
    "have = set()\n"
    "try:\n"
    "    folders = s.listdir('photos')[0]\n"
    "except FileNotFoundError:\n"
    "    folders = []\n"
    "for f in folders:\n"
    "    have |= {f'photos/{f}/{x}' for x in s.listdir(f'photos/{f}')[1]}\n"
    "missing = sorted(named - have)\n"
    "print(json.dumps({'named': len(named), 'missing': len(missing), 'examples': missing[:5],"
    " 'unnamed': len(have - named)}))\n"
)


def bucket_vs_rows(project: Project) -> dict | None:
    """{"named", "missing", "examples", "unnamed"}: the photo files the database's rows
    name (posts and profile pictures), how many of them the bucket lacks (up to five
    examples), and how many objects no row names (the media sweep removes those). Run in
    an upload (else app) container; None when neither runs. OpsError when it fails."""
    container = _first_running(project, ("upload", "app"))
    if container is None:
        return None
    out = project.exec(
        container, "python", "manage.py", "shell", "--no-imports", "-c", BUCKET_CHECK, timeout=1800
    )
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise OpsError(f"could not compare the bucket with the rows: {out.stdout[-500:]}") from None


def backup(project: Project, dest: Path) -> dict:
    """Write a backup of the running stack to the new (or empty) directory `dest`; returns
    its manifest. The database always; the media volume too, unless the photos are in a
    bucket (photo_storage): the backup is then the database only, and the manifest's
    "contents" ("database") and "photos" say so. OpsError (nothing left at `dest`)."""
    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise OpsError(f"{dest} exists and is not an empty directory; choose a new DEST")
    for service in ("db", "upload"):
        project.one(service)
    storage = photo_storage(project)
    with_media = not storage["bucket"]
    if not with_media:
        progress(
            f"the photos are in {_where(storage)}: this backup is the DATABASE ONLY; the "
            "photos are kept by the bucket's versioning/replication (docs/swarm.md, "
            "'Backups with a bucket')"
        )
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(mode=0o700)  # password hashes and sessions inside: owner only
    try:
        started = datetime.datetime.now(datetime.UTC)
        progress("dumping the database (single transaction: writers keep writing)")
        db = dump_db(project, tmp / "db.sql.gz")
        rows = ", ".join(f"{t} {n}" for t, n in sorted(db["tables"].items()) if n)
        progress(f"database dumped: {db['sql_bytes'] / 1e6:.1f} MB SQL; rows: {rows}")
        files = ["db.sql.gz"]
        media = {}
        if with_media:
            progress("copying the media files")
            upload = project.one("upload")
            with open(tmp / "media.tar", "wb") as out:
                project.stream(upload.id, ["tar", "-C", MEDIA_DIR, "-cf", "-", "."], out.write)
            media = media_sums_tar(tmp / "media.tar")
            progress(f"media copied: {len(media)} files")
            files.append("media.tar")
        manifest = {
            "format": FORMAT,
            "contents": "database+media" if with_media else "database",
            "created_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "project": project.name,
            "versions": {
                "app": project.current_version("app"),
                "upload": project.current_version("upload"),
                "db_server": db_version(project),
            },
            "files": {
                name: {"sha256": sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
                for name in files
            },
            "db": db,
            "media": {"count": len(media), "files": dict(sorted(media.items()))},
        }
        if not with_media:
            manifest["photos"] = {
                "in_backup": False,
                **storage,
                "note": "photos are not in this backup: they are in the bucket, kept by its "
                "own versioning/replication; restore the bucket as of created_at with it",
            }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        for name in [*files, "manifest.json"]:
            (tmp / name).chmod(0o600)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def database_only(manifest: dict) -> bool:
    """Whether a backup holds the database without the photos (they were in a bucket)."""
    return manifest.get("contents") == "database"


def verify(src: Path) -> dict:
    """Check an archive without restoring it; returns the manifest, raises OpsError."""
    src = src.resolve()
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except FileNotFoundError:
        raise OpsError(f"{src}: no manifest.json (not an extagram backup)") from None
    except ValueError as error:
        raise OpsError(f"{src}/manifest.json is not valid JSON: {error}") from None
    if manifest.get("format") != FORMAT:
        raise OpsError(f"{src}: unknown backup format {manifest.get('format')!r}")
    problems = []
    for name, meta in manifest["files"].items():
        path = src / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != meta["sha256"]:
            problems.append(f"{name}: sha256 differs from the manifest")
    if not problems:
        digest = DumpDigest()
        try:
            for chunk in _chunks(src / "db.sql.gz", gunzip=True):
                digest.feed(chunk)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            problems.append(f"db.sql.gz: unreadable ({error})")
        else:
            if digest.finish() != manifest["db"]["sql_sha256"] or not digest.completed:
                problems.append("db.sql.gz: content does not match the manifest")
            if digest.rows != manifest["db"]["tables"]:
                problems.append("db.sql.gz: row counts do not match the manifest")
        if database_only(manifest):
            if "media.tar" in manifest["files"] or manifest["media"]["files"]:
                problems.append("a database-only backup whose manifest lists media files")
        elif "media.tar" not in manifest["files"]:
            problems.append("media.tar: not in the manifest (and the backup is not database-only)")
        else:
            try:
                media = media_sums_tar(src / "media.tar")
            except (OSError, tarfile.TarError) as error:
                problems.append(f"media.tar: unreadable ({error})")
            else:
                problems += _compare(manifest["media"]["files"], media, "media.tar")
    if problems:
        raise OpsError(f"backup {src} is damaged:\n  " + "\n  ".join(problems[:20]))
    return manifest


def _compare(expected: dict, actual: dict, where: str) -> list[str]:
    problems = []
    for path, digest in expected.items():
        if path not in actual:
            problems.append(f"{where}: {path} missing")
        elif actual[path] != digest:
            problems.append(f"{where}: {path} checksum differs")
    extra = sorted(set(actual) - set(expected))
    if extra:
        problems.append(f"{where}: {len(extra)} file(s) not in the backup, e.g. {extra[0]}")
    return problems


def stack_contents(project: Project, media: bool = True) -> dict:
    """{"users", "tables", "media_files"} of the running stack (media files on its volume,
    counted only when `media`)."""
    db = project.one("db")
    sql = (
        "SELECT (SELECT COUNT(*) FROM auth_user), "
        "(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=DATABASE())"
    )
    out = project.exec(
        db, *_client("mariadb", "mysql"), "-N", "-B", DB_NAME, "-e", sql, check=False
    )
    users = tables = 0
    if out.returncode == 0 and out.stdout.strip():
        users, tables = (int(x) for x in out.stdout.split())
    elif "auth_user" not in out.stderr:
        pass
    files = len(media_sums_live(project)) if media else 0
    return {"users": users, "tables": tables, "media_files": files}


def restore(project: Project, src: Path, force: bool = False) -> dict:
    """Load the backup at `src` into the running stack, then verify it against the
    manifest; returns the manifest. A database-only backup (photos in a bucket) restores
    the database only, into a stack whose photos are in a bucket, and then reports how
    many photo files the restored rows name that the bucket lacks (manifest["restore"]).
    A backup with media files restores into a stack whose photos are on the volume.
    OpsError when the backup is damaged, the stack is not empty (without `force`), the
    backup and the stack keep photos in different places, or verification fails."""
    progress(f"verifying the backup {src}")
    manifest = verify(src)
    src = src.resolve()
    for service in ("db", "cache"):
        project.one(service)
    storage = photo_storage(project)
    only_db = database_only(manifest)
    if not only_db:
        project.one("upload")  # the media files go through it
    if storage["bucket"] and not only_db:
        raise OpsError(
            f"restore refused: this stack's photos are in {_where(storage)}, and this "
            f"backup's {manifest['media']['count']} media files are a volume's, which "
            "extagram-ops does not copy into a bucket: restore it into a stack that keeps "
            "its photos on the media volume (docs/swarm.md, 'Backups with a bucket')"
        )
    if only_db and not storage["bucket"]:
        was = (manifest.get("photos") or {}).get("bucket", "?")
        raise OpsError(
            f"restore refused: this backup is the database only (its photos were in the "
            f"S3 bucket {was!r}), and this stack keeps its photos on the media volume, "
            "where its rows' photos would be missing: restore it into a stack whose "
            "EXTAGRAM_S3_BUCKET is that bucket (or a copy of it)"
        )
    if only_db:
        progress(
            f"database-only backup: restoring the database; the photos stay in "
            f"{_where(storage)} (restore the bucket as of {manifest['created_at']} with its "
            "versioning if objects were deleted since)"
        )
    contents = stack_contents(project, media=not only_db)
    if contents["users"] or contents["media_files"]:
        if not force:
            raise OpsError(
                f"project {project.name!r} is not empty ({contents['users']} users, "
                f"{contents['media_files']} media files): refusing to overwrite it "
                "(pass --force to replace its data with the backup's)"
            )
        progress(
            f"--force: replacing {contents['users']} users and "
            f"{contents['media_files']} media files"
        )
    db = project.one("db")
    progress("loading the database dump")
    project.stream(
        db.id,
        [*_client("mariadb", "mysql"), DB_NAME],
        lambda chunk: None,
        stdin=_chunks(src / "db.sql.gz", gunzip=True),
    )
    if not only_db:
        upload = project.one("upload")
        progress("restoring the media files")
        project.exec(upload, "find", MEDIA_DIR, "-mindepth", "1", "-delete")
        project.stream(
            upload.id,
            ["tar", "-C", MEDIA_DIR, "-xf", "-"],
            lambda chunk: None,
            stdin=_chunks(src / "media.tar"),
        )
    progress("emptying the cache (it may hold pages of the data just replaced)")
    project.exec(project.one("cache"), "redis-cli", "FLUSHALL", check=False)
    progress("verifying the restored data against the manifest")
    problems = []
    digest = redump_digest(project)
    if digest.hash.hexdigest() != manifest["db"]["sql_sha256"]:
        diff = {
            t: (n, digest.rows.get(t, 0))
            for t, n in manifest["db"]["tables"].items()
            if digest.rows.get(t, 0) != n
        }
        problems.append(f"database differs from the dump (rows backup/restored: {diff or 'same'})")
    if not only_db:
        problems += _compare(manifest["media"]["files"], media_sums_live(project), "media volume")
    if problems:
        raise OpsError("restore verification failed:\n  " + "\n  ".join(problems[:20]))
    if only_db:
        progress("restored database verified: identical to the dump")
        check = bucket_vs_rows(project)
        manifest["restore"] = {"bucket_vs_rows": check}
        if check is None:
            progress(
                "the restored rows were not checked against the bucket: no upload or app "
                "task runs (scale them up; the media sweep's log names missing files)"
            )
        elif check["missing"]:
            progress(
                f"WARNING: the restored rows name {check['named']} photo files; "
                f"{check['missing']} of them are not in {_where(storage)} (e.g. "
                f"{', '.join(check['examples'][:3])}): restore those objects from the "
                "bucket's versions, or their posts show no photo"
            )
        else:
            progress(
                f"the restored rows name {check['named']} photo files, all in "
                f"{_where(storage)} ({check['unnamed']} objects no row names; the media "
                "sweep removes them)"
            )
    else:
        progress(
            "restored data verified: database identical to the dump, "
            f"{manifest['media']['count']} media files identical"
        )
    return manifest


def describe(manifest: dict) -> str:
    out = io.StringIO()
    v = manifest["versions"]
    out.write(
        f"backup of {manifest['project']!r} taken {manifest['created_at']} "
        f"(app {v.get('app')}, db {v.get('db_server')})\n"
    )
    for name, meta in manifest["files"].items():
        out.write(f"  {name:<10} {meta['bytes'] / 1e6:9.2f} MB  sha256 {meta['sha256']}\n")
    tables = manifest["db"]["tables"]
    interesting = [t for t in sorted(tables) if not t.startswith(("django_", "auth_perm"))]
    out.write("  rows: " + ", ".join(f"{t} {tables[t]}" for t in interesting) + "\n")
    if database_only(manifest):
        photos = manifest.get("photos") or {}
        out.write(
            f"  photos: NOT in this backup (database only): they are in the S3 bucket "
            f"{photos.get('bucket', '?')!r}, kept by its versioning/replication\n"
        )
    else:
        out.write(f"  media files: {manifest['media']['count']}\n")
    check = (manifest.get("restore") or {}).get("bucket_vs_rows")
    if check:
        out.write(
            f"  bucket vs rows: {check['named']} photo files named, "
            f"{check['missing']} missing from the bucket\n"
        )
    return out.getvalue()
