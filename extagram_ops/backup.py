"""Backups: a consistent database dump plus the photo files, with a checksum manifest.

Layout of a backup (a directory, written under a temporary name and renamed when done):

    manifest.json   format, date, project, versions, sha256 + size of each file below,
                    rows per table, sha256 of every photo file; "contents" says what is
                    in it ("database+media", or "database" for `--database-only`), and
                    "photos" where they came from (the media volume or an S3 bucket)
    db.sql.gz       mariadb-dump --single-transaction (a consistent snapshot read through
                    InnoDB's MVCC: writers are never locked out), one INSERT per row
    media.tar       every file of the stack's photo storage (absent from a database-only
                    backup)

The photo files are read and written through the stack itself: `python manage.py
photo_archive export|import` in its upload container (extagram/core/photo_archive.py,
Django's storage API), so the media volume and an S3 bucket (EXTAGRAM_S3_BUCKET, under
its prefix) are backed up the same way, into the same media.tar, and a backup of either
restores into either. The host running extagram-ops never needs to reach the bucket.
`backup --database-only` of a stack whose photos are in a bucket leaves them to the
bucket's own versioning (docs/swarm.md, "Backups with a bucket"); restoring such a
backup loads the database only, into a stack whose photos are in a bucket.

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

from django.template.defaultfilters import pluralize

from extagram.core.photo_archive import ArchiveError, member_name
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
# the photo storage as a tar stream, through Django's storage API in the upload container
# (extagram/core/photo_archive.py): the media volume and an S3 bucket alike
ARCHIVE = ("python", "manage.py", "photo_archive")


def root_client(tool: str, fallback: str) -> list[str]:
    """The command that runs the database's `tool` (or `fallback`, its older name) as
    MariaDB's root inside the db container, the password read there from the secret
    file: it never passes through this process. Arguments follow it."""
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


def query_rows(project: Project, sql: str) -> list[list[str]] | None:
    """The rows (lists of column values, as text) of `sql` run in the db container on the
    app's database, as root; None when the client fails (no such table yet, say)."""
    out = project.exec(
        project.one("db"),
        *root_client("mariadb", "mysql"),
        "-N",
        "-B",
        DB_NAME,
        "-e",
        sql,
        check=False,
    )
    if out.returncode != 0:
        return None
    return [line.split("\t") for line in out.stdout.splitlines() if line.strip()]


def db_version(project: Project) -> str:
    rows = query_rows(project, "SELECT VERSION()")
    return rows[0][0] if rows else "?"


def dump_db(project: Project, dest: Path) -> dict:
    db = project.one("db")
    digest = DumpDigest()
    size = [0]
    with gzip.open(dest, "wb", compresslevel=6) as out:

        def sink(chunk):
            out.write(chunk)
            digest.feed(chunk)
            size[0] += len(chunk)

        project.stream(db.id, [*root_client("mariadb-dump", "mysqldump"), *DUMP_ARGS], sink)
    sql_sha = digest.finish()
    if not digest.completed:
        raise OpsError("the database dump ended early (no 'Dump completed' line)")
    return {"sql_sha256": sql_sha, "sql_bytes": size[0], "tables": digest.rows}


def redump_digest(project: Project) -> DumpDigest:
    db = project.one("db")
    digest = DumpDigest()
    project.stream(db.id, [*root_client("mariadb-dump", "mysqldump"), *DUMP_ARGS], digest.feed)
    digest.finish()
    return digest


def archive(project: Project, container, action: str, *args, timeout: float = 1800) -> dict:
    """`python manage.py photo_archive ACTION ARGS` in `container` (its storage settings
    and credentials): the JSON it prints. OpsError when it fails, e.g. on an image older
    than the command."""
    out = project.exec(container, *ARCHIVE, action, *args, timeout=timeout, check=False)
    if out.returncode != 0:
        if "Unknown command" in out.stderr:
            raise OpsError(
                f"the {container.service} container's image has no `photo_archive` command "
                "(older than this extagram-ops): deploy the current version first"
            )
        raise OpsError(f"photo_archive {action} failed ({out.returncode}): {out.stderr[-1500:]}")
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise OpsError(f"photo_archive {action} printed no report: {out.stdout[-500:]}") from None


def media_sums_tar(path: Path) -> dict[str, str]:
    """{storage name: sha256} of every regular file in the tar at `path` (names as
    photo_archive.member_name gives them: `./photos/a.jpg` -> `photos/a.jpg`).
    ArchiveError for a member whose name is not a relative name."""
    sums = {}
    with tarfile.open(path, "r:") as tar:
        for member in tar:
            if member.isfile():
                h = hashlib.sha256()
                fh = tar.extractfile(member)
                for chunk in iter(lambda fh=fh: fh.read(CHUNK), b""):
                    h.update(chunk)
                sums[member_name(member.name)] = h.hexdigest()
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
    """{"bucket", "prefix", "endpoint"} of the stack's photo storage; "" each when the
    photos are on the media volume. On a swarm, read from the upload service's spec (on
    the manager: no task's node need be reachable, so a database-only backup works
    wherever the engine moved upload); on Compose, from the environment of the running
    upload container (else app's, else media's: an operator may have scaled upload and
    app to 0 to keep users out during a restore). OpsError when none of them runs."""
    if hasattr(project, "spec_env"):  # a swarm stack
        items = project.spec_env("upload")
    else:
        container = _first_running(project, ("upload", "app", "media"))
        if container is None:
            raise OpsError(
                "no upload, app or media container runs: cannot tell where the photos are"
            )
        out = project.docker("inspect", "-f", "{{json .Config.Env}}", container.id).stdout
        items = json.loads(out or "[]") or []
    env = dict(item.partition("=")[::2] for item in items)
    bucket = env.get("EXTAGRAM_S3_BUCKET", "").strip()
    return {
        "bucket": bucket,
        "prefix": env.get("EXTAGRAM_S3_PREFIX", "").strip() if bucket else "",
        "endpoint": env.get("EXTAGRAM_S3_ENDPOINT_URL", "").strip() if bucket else "",
    }


def _kind(project) -> str:
    """What the operator calls `project`: a swarm stack or a Compose project."""
    return "stack" if getattr(project, "stack", None) else "project"


def _where(storage: dict) -> str:
    if not storage.get("bucket"):
        return "the media volume"
    where = f"the S3 bucket {storage['bucket']!r}"
    if storage.get("prefix"):
        where += f" (under {storage['prefix']}/)"
    return where


def photos_vs_rows(project: Project) -> dict | None:
    """{"named", "missing", "examples", "unnamed"}: the photo files the database's rows
    name (posts and profile pictures), how many of them the photo storage (volume or
    bucket) lacks (up to five examples), and how many stored files no row names (the
    media sweep removes those). Run in an upload (else app) container (photo_archive
    check); None when neither runs. OpsError when it fails."""
    container = _first_running(project, ("upload", "app"))
    if container is None:
        return None
    return archive(project, container, "check")


def backup(project: Project, dest: Path, database_only: bool = False) -> dict:
    """Write a backup of the running stack to the new (or empty) directory `dest`; returns
    its manifest. The database, and every file of the photo storage (the media volume or
    the S3 bucket under its prefix: read through the upload container's storage, Django's
    storage API) as media.tar. With `database_only` (a stack whose photos are in a
    bucket with its own versioning, backed up often), the database only: the manifest's
    "contents" ("database") and "photos" say so. OpsError (nothing left at `dest`),
    also for `database_only` on a stack whose photos are on its volume."""
    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise OpsError(f"{dest} exists and is not an empty directory; choose a new DEST")
    for service in ("db", "upload"):
        project.one(service)
    storage = photo_storage(project)
    kind = "bucket" if storage["bucket"] else "volume"
    with_media = not database_only
    if database_only and not storage["bucket"]:
        raise OpsError(
            "--database-only is for a stack whose photos are in an S3 bucket (its "
            "versioning keeps them); this stack keeps them on its media volume, which only "
            "a full backup (without --database-only) saves"
        )
    if not with_media:
        progress(
            f"--database-only: the photos in {_where(storage)} are NOT in this backup; the "
            "bucket's versioning/replication keeps them (docs/swarm.md, 'Backups with a "
            "bucket')"
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
            progress(f"copying the photo files from {_where(storage)}")
            upload = project.one("upload")
            with open(tmp / "media.tar", "wb") as out:
                said = project.stream(upload.id, [*ARCHIVE, "export"], out.write)
            media = media_sums_tar(tmp / "media.tar")
            vanished = _export_vanished(said)
            progress(
                f"photos copied: {len(media)} file{pluralize(len(media))}"
                + (f" ({vanished} deleted while being copied: not in it)" if vanished else "")
            )
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
            "photos": {"in_backup": with_media, "storage": kind, **storage},
        }
        if not with_media:
            manifest["photos"]["note"] = (
                "photos are not in this backup (--database-only): they are in the bucket, "
                "kept by its own versioning/replication; restore the bucket as of "
                "created_at with it"
            )
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


def _export_vanished(stderr: str) -> int:
    """How many files the export's JSON summary (its last stderr line) says were deleted
    between its listing and its read."""
    for line in reversed(stderr.splitlines()):
        try:
            return len(json.loads(line).get("vanished", []))
        except (ValueError, AttributeError):
            continue
    return 0


def database_only(manifest: dict) -> bool:
    """Whether a backup holds the database without the photos (`backup --database-only`
    of a stack whose photos are in a bucket)."""
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
    unsafe = [n for n in manifest["media"]["files"] if not _storage_name(n)]
    if unsafe:
        problems.append(
            f"media.tar: {len(unsafe)} name{pluralize(len(unsafe))} outside the storage, "
            f"e.g. {unsafe[0]}"
        )
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
            except (OSError, tarfile.TarError, ArchiveError) as error:
                problems.append(f"media.tar: unreadable ({error})")
            else:
                problems += _compare(manifest["media"]["files"], media, "media.tar")
    if problems:
        raise OpsError(f"backup {src} is damaged:\n  " + "\n  ".join(problems[:20]))
    return manifest


def _storage_name(name: str) -> bool:
    """Whether `name` names a file inside the photo storage (photo_archive.member_name,
    the same rule `photo_archive import` applies)."""
    try:
        return member_name(name) is not None
    except ArchiveError:
        return False


def _compare(expected: dict, actual: dict, where: str, extra_ok: bool = False) -> list[str]:
    problems = []
    for path, digest in expected.items():
        if path not in actual:
            problems.append(f"{where}: {path} missing")
        elif actual[path] != digest:
            problems.append(f"{where}: {path} checksum differs")
    extra = sorted(set(actual) - set(expected))
    if extra and not extra_ok:
        problems.append(
            f"{where}: {len(extra)} file{pluralize(len(extra))} not in the backup, e.g. {extra[0]}"
        )
    return problems


def stack_contents(project: Project, media: bool = True) -> dict:
    """{"users", "tables", "media_files"} of the running stack (the files of its photo
    storage, volume or bucket, counted only when `media`)."""
    sql = (
        "SELECT (SELECT COUNT(*) FROM auth_user), "
        "(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=DATABASE())"
    )
    rows = query_rows(project, sql)
    users, tables = (int(x) for x in rows[0]) if rows else (0, 0)
    files = archive(project, project.one("upload"), "count")["files"] if media else 0
    return {"users": users, "tables": tables, "media_files": files}


def next_ids(project: Project) -> dict[str, int]:
    """{table: the next id its AUTO_INCREMENT hands out} of the stack's database."""
    sql = (
        "SELECT table_name, auto_increment FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND auto_increment IS NOT NULL"
    )
    return {table: int(value) for table, value in query_rows(project, sql) or []}


def keep_ids_unused(project: Project, before: dict[str, int]) -> list[str]:
    """After a restore over a stack that handed out ids the backup never saw: each table's
    AUTO_INCREMENT goes back up to what it was before (`before`, next_ids), so no new post
    or account takes the id of one the restore removed, and an old link to /p/N/ never
    opens someone else's post. Returns the tables raised."""
    raised = [t for t, n in next_ids(project).items() if before.get(t, 0) > n]
    if raised:
        sql = "".join(f"ALTER TABLE `{t}` AUTO_INCREMENT = {int(before[t])};" for t in raised)
        project.exec(project.one("db"), *root_client("mariadb", "mysql"), DB_NAME, "-e", sql)
    return raised


def restore(
    project: Project,
    src: Path,
    force: bool = False,
    prune: bool = False,
    database_only_: bool = False,
) -> dict:
    """Load the backup at `src` into the running stack, then verify it against the
    manifest; returns the manifest (its "restore" key says what the restore found).

    The database is loaded and checked against the dump's digest first; then the
    backup's photo files are put into the stack's photo storage, whichever it is (the
    media volume or the S3 bucket: photo_archive import in the upload container, so a
    volume's backup restores into a bucket and back): files missing or different are
    written, and every one is read back and checked against the manifest's sha256. Files
    of the storage that the backup does not hold are left (the media sweep removes those
    no row names), unless `prune`: then those no restored row names are deleted. Last,
    the photo files the restored rows name are looked for in the storage (photos_vs_rows);
    the manifest's "restore" then holds {"photos_vs_rows": its report, or None when it
    could not run, "photos_in": where it looked, "database_only"}, and missing_photos()
    turns a shortfall into the error the CLI exits 1 with.

    Ids the stack handed out after the backup stay unused (keep_ids_unused): the tables'
    AUTO_INCREMENT go back up to where they were before the restore.

    A database-only backup restores the database only, into a stack whose photos are in
    a bucket; so does any backup with `database_only_` (the database node lost, the
    bucket intact, upload scaled to 0 to keep users out: docs/swarm.md).

    OpsError when the backup is damaged, the stack is not empty (without `force`), a
    database-only restore meets a stack that keeps its photos on the volume,
    the upload service (the photos go through it) does not run, or verification fails.
    """
    progress(f"verifying the backup {src}")
    manifest = verify(src)
    src = src.resolve()
    for service in ("db", "cache"):
        project.one(service)
    storage = photo_storage(project)
    only_db = database_only(manifest) or database_only_
    if only_db and not storage["bucket"]:
        what = (
            (
                "this backup is the database only (its photos were in "
                if database_only(manifest)
                else "--database-only leaves out the photos (they were in "
            )
            + _where(manifest.get("photos") or {})
            + ")"
        )
        raise OpsError(
            f"restore refused: {what}, and this stack keeps its photos on the media volume, "
            "where its rows' photos would be missing: restore it into a stack whose "
            "EXTAGRAM_S3_BUCKET is that bucket (or a copy of it)"
            + ("" if database_only(manifest) else ", or without --database-only")
        )
    if not only_db:
        try:
            project.one("upload")
        except OpsError as error:
            raise OpsError(
                f"{error}: the backup's photos go into {_where(storage)} through the upload "
                "service; scale it to 1 (users can be kept out by scaling app to 0)"
            ) from None
        came_from = _where(manifest.get("photos") or {})
        if came_from != _where(storage):
            progress(f"the backup's photos were in {came_from}; they go into {_where(storage)}")
    else:
        progress(
            f"{'database-only backup' if database_only(manifest) else '--database-only'}: "
            f"restoring the database; the photos stay in {_where(storage)} (restore the "
            f"bucket as of {manifest['created_at']} with its versioning if objects were "
            "deleted since)"
        )
    contents = stack_contents(project, media=not only_db)
    users, files = contents["users"], contents["media_files"]
    if users or files:
        # a database-only restore does not count the photos (stack_contents, media=False)
        photos = "" if only_db else f", {files} photo file{pluralize(files)}"
        if not force:
            raise OpsError(
                f"{_kind(project)} {project.name!r} is not empty ({users} "
                f"user{pluralize(users)}{photos}): refusing to overwrite it "
                "(pass --force to replace its data with the backup's)"
            )
        if only_db:
            progress(f"--force: replacing {users} user{pluralize(users)}; the photos stay")
        else:
            progress(
                f"--force: replacing {users} user{pluralize(users)}; of the {files} photo "
                f"file{pluralize(files)} in {_where(storage)}, those not in the backup "
                + ("are deleted (--prune)" if prune else "stay")
            )
    ids_before = next_ids(project)
    db = project.one("db")
    progress("loading the database dump")
    project.stream(
        db.id,
        [*root_client("mariadb", "mysql"), DB_NAME],
        lambda chunk: None,
        stdin=_chunks(src / "db.sql.gz", gunzip=True),
    )
    progress("emptying the cache (it may hold pages of the data just replaced)")
    project.exec(project.one("cache"), "redis-cli", "FLUSHALL", check=False)
    progress("verifying the restored database against the manifest")
    digest = redump_digest(project)
    db_differs = None
    if digest.hash.hexdigest() != manifest["db"]["sql_sha256"]:
        diff = {
            t: (n, digest.rows.get(t, 0))
            for t, n in manifest["db"]["tables"].items()
            if digest.rows.get(t, 0) != n
        }
        # said at the end: the photos are put back first, whatever wrote meanwhile
        db_differs = f"database differs from the dump (rows backup/restored: {diff or 'same'})"
        progress(f"{db_differs}; going on with the schema and the photos")
    else:  # said before the migrations, which may change it from the dump
        progress("restored database verified: identical to the dump")
    raised = keep_ids_unused(project, ids_before)
    if raised:
        progress(
            f"ids handed out since the backup stay unused ({len(raised)} "
            f"table{pluralize(len(raised))}: {', '.join(raised[:4])}"
            f"{', ...' if len(raised) > 4 else ''}): old links never open another post"
        )
    result = {"migrations_applied": _migrate(project)}
    if not only_db:
        count = manifest["media"]["count"]
        progress(f"restoring {count} photo file{pluralize(count)} into {_where(storage)}")
        upload = project.one("upload")
        out = io.BytesIO()
        project.stream(
            upload.id,
            [*ARCHIVE, "import", *(["--prune"] if prune else [])],
            out.write,
            stdin=_chunks(src / "media.tar"),
        )
        try:
            report = json.loads(out.getvalue().decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            said = out.getvalue()[-500:]
            raise OpsError(f"photo_archive import printed no report: {said}") from None
        problems = _compare(manifest["media"]["files"], report.pop("sums"), where="storage")
        if problems:
            raise OpsError("restore verification failed:\n  " + "\n  ".join(problems[:20]))
        result["photos"] = report
        progress(
            f"photos restored and read back identical: {report['written']} written, "
            f"{report['unchanged']} already there"
            + (f"; {report['pruned']} not in the backup deleted (--prune)" if prune else "")
            + (
                f"; {report['extra']} file{pluralize(report['extra'])} not in the backup left in "
                f"{_where(storage)} "
                f"(e.g. {', '.join(report['extra_examples'][:2])}; the media sweep removes "
                "those no row names)"
                if report["extra"]
                else ""
            )
        )
    if db_differs:
        raise OpsError(
            f"restore verification failed:\n  {db_differs}. Something wrote to the database "
            "during the restore: keep users out while it runs (docs/operations.md, "
            "'Restore'). The photos were put back; run the restore again."
        )
    try:
        check = photos_vs_rows(project)
    except OpsError as error:  # the restore itself is done and verified
        check, why = None, str(error)
    else:
        why = (
            "no upload or app task runs (scale them up; the media sweep's log names missing files)"
        )
    result.update(photos_vs_rows=check, photos_in=_where(storage), database_only=only_db)
    manifest["restore"] = result
    if check is None:
        progress(f"the restored rows were not checked against the photos: {why}")
    elif check["missing"]:
        progress(
            f"the restored rows name {check['named']} photo file{pluralize(check['named'])}; "
            f"{check['missing']} of them {pluralize(check['missing'], 'is,are')} NOT in "
            f"{_where(storage)}"
        )
    else:
        progress(
            f"the restored rows name {check['named']} photo file{pluralize(check['named'])}, "
            f"{'all ' if check['named'] != 1 else ''}in {_where(storage)} "
            f"({check['unnamed']} stored file{pluralize(check['unnamed'])} no row names; the media "
            "sweep removes them)"
        )
    return manifest


def _migrate(project: Project) -> int:
    """Bring the restored database to the running version's schema (its `migrate`: a
    backup of an older version lacks the newer migrations, and every page then failed on
    a missing column); returns how many migrations were applied."""
    progress("bringing the database to the running version's migrations")
    output = project.run_migrations(None, timeout=600)
    applied = sum(1 for line in output.splitlines() if line.strip().startswith("Applying "))
    if applied:
        progress(
            f"{applied} migration{pluralize(applied)} applied: the backup came from an older "
            "version"
        )
    return applied


def missing_photos(manifest: dict) -> str | None:
    """The error to exit with after a restore (the manifest restore() returned) whose
    rows name photo files the stack's storage lacks: how many, examples, and what to do;
    None when none is missing (or the check could not run: restore() said so)."""
    done = manifest.get("restore") or {}
    check = done.get("photos_vs_rows")
    if not check or not check["missing"]:
        return None
    n = check["missing"]
    if done.get("database_only"):
        fix = (
            f"Put {pluralize(n, 'that object,those objects')} back from the bucket's "
            f"versioning (as of {manifest['created_at']}, when the backup was taken)"
        )
    else:
        fix = (
            f"{pluralize(n, 'It was,They were')} not in the backup either (already missing "
            "from the stack it was taken from, or deleted while it was taken): put "
            f"{pluralize(n, 'it,them')} back from an older backup's media.tar if one holds "
            f"{pluralize(n, 'it,them')}"
        )
    return (
        f"restore incomplete: the restored rows name {n} photo file{pluralize(n)} that "
        f"{pluralize(n, 'is,are')} not in {done.get('photos_in', 'the photo storage')} "
        f"(e.g. {', '.join(check['examples'][:3])}): the posts or profile pictures that "
        f"use {pluralize(n, 'it,them')} show no photo. Everything else was restored and "
        f"verified, and stays. {fix}; `python manage.py photo_archive check` in an upload "
        "container counts what is still missing. Accepting the loss needs nothing redone; "
        "a script that accepts it passes --allow-missing-photos (exit 0)."
    )


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
    photos = manifest.get("photos") or {}
    if database_only(manifest):
        out.write(
            f"  photos: NOT in this backup (database only): they are in the S3 bucket "
            f"{photos.get('bucket', '?')!r}, kept by its versioning/replication\n"
        )
    else:
        out.write(f"  media files: {manifest['media']['count']} (from {_where(photos)})\n")
    check = (manifest.get("restore") or {}).get("photos_vs_rows")
    if check:
        out.write(
            f"  photos vs rows: {check['named']} photo file{pluralize(check['named'])} named, "
            f"{check['missing']} missing from the storage\n"
        )
    return out.getvalue()
