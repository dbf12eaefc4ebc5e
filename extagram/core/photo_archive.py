"""The photo storage as a tar stream: what `extagram-ops backup`/`restore` copy.

One code path for every storage: files are listed, read and written through Django's
storage API (`default_storage`), so the same commands copy the media volume
(FileSystemStorage under MEDIA_ROOT) and an S3 bucket (extagram.core.storage, under
EXTAGRAM_S3_PREFIX), and a backup of one restores into the other. They run inside the
stack's upload container (`python manage.py photo_archive ...`), which has the storage's
settings and credentials and reaches the bucket's endpoint; the operator's host may not.

The archive is a plain (uncompressed: photos are compressed already) tar of regular
files named by their storage names (`photos/ab/<sha256>.jpg`), the same layout as the
`media.tar` that `tar -C /data/media -cf - .` wrote for earlier backups; names of such
tars (`./photos/...`, directory members) are read too.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from collections.abc import Iterator

from django.apps import apps
from django.core.files.storage import default_storage

EXAMPLES = 5


class ArchiveError(Exception):
    """A member of the archive cannot be stored (its name escapes the storage)."""


def stored_names(storage=default_storage, folder: str = "") -> Iterator[str]:
    """Every file name in `storage` under `folder`, one listing per folder (a bucket's
    ListObjectsV2 with a delimiter; os.scandir on the volume), sorted within each folder.
    A folder that does not exist yields nothing."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from stored_names(storage, f"{folder}/{sub}" if folder else sub)


def member_name(name: str) -> str | None:
    """The storage name of a tar member's name: `./photos/a.jpg` -> `photos/a.jpg`; None
    for the archive's root (`.`). ArchiveError for an absolute name or one with `..`."""
    clean = posixpath.normpath(name)
    if clean == ".":
        return None
    if clean.startswith("/") or clean == ".." or clean.startswith("../"):
        raise ArchiveError(f"refusing the archive member {name!r}: not a relative name")
    return clean


def write_tar(out, storage=default_storage) -> dict:
    """Write every file of `storage` to the binary stream `out` as a tar (stream mode:
    nothing is seeked, nothing spooled to disk). A file is read whole into memory before
    its header is written (photos are at most a few MB), so its size is what was read.
    Returns {"files": written, "bytes": their total, "vanished": [names deleted between
    the listing and the read (a post deleted meanwhile)]}."""
    report = {"files": 0, "bytes": 0, "vanished": []}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name in stored_names(storage):
            try:
                with storage.open(name, "rb") as fh:
                    data = fh.read()
            except Exception:
                if storage.exists(name):
                    raise
                report["vanished"].append(name)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
            report["files"] += 1
            report["bytes"] += len(data)
    return report


def read_tar(stream, prune: bool = False) -> dict:
    """Put every file of the tar read from the binary stream `stream` into the default
    storage: a file that is missing, or whose stored bytes differ, is written
    (StoredFile.objects.write_if_missing); one already identical is left as it is. Then
    each file is read back from storage and hashed, for the caller to compare with its
    manifest. Files of the storage that the tar does not hold are left alone, unless
    `prune`: then those that no post or profile picture names are deleted, under their
    StoredFile lock (StoredFile.objects.release, as a post deletion does).

    Returns {"files", "written", "unchanged", "sums": {name: sha256 of the stored bytes},
    "extra": count of stored files not in the tar (after pruning), "extra_examples",
    "pruned": count deleted, "kept_in_use": extra files kept because rows name them}.
    ArchiveError for a member whose name is not a relative name (nothing after it is
    written); tarfile.TarError for a damaged tar.
    """
    StoredFile = apps.get_model("posts", "StoredFile")
    storage = default_storage
    report = {"files": 0, "written": 0, "unchanged": 0, "sums": {}}
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            name = member_name(member.name)
            if name is None or not member.isfile():
                continue
            data = tar.extractfile(member).read()
            # No StoredFile lock: the restore's database was just loaded from the same
            # backup, and locking would add rows to it. The only other writer of a
            # content-hash name is an upload of the same bytes.
            if StoredFile.objects.write_if_missing(name, data):
                report["written"] += 1
                with storage.open(name, "rb") as fh:
                    report["sums"][name] = hashlib.file_digest(fh, "sha256").hexdigest()
            else:
                report["unchanged"] += 1
                report["sums"][name] = hashlib.sha256(data).hexdigest()
            report["files"] += 1
    extra = [name for name in stored_names(storage) if name not in report["sums"]]
    report["pruned"] = report["kept_in_use"] = 0
    if prune and extra:
        deleted = set(StoredFile.objects.release(extra))
        report["pruned"] = len(deleted)
        extra = [name for name in extra if name not in deleted]
        report["kept_in_use"] = len(extra)
    report["extra"] = len(extra)
    report["extra_examples"] = extra[:EXAMPLES]
    return report


def rows_vs_storage(storage=default_storage) -> dict:
    """{"named", "missing", "examples", "unnamed"}: how many photo files the database's
    rows name (posts' photo fields, profile pictures), how many of those `storage` lacks
    (up to five examples), and how many stored files no row names (the media sweep
    removes those)."""
    Post = apps.get_model("posts", "Post")
    Profile = apps.get_model("accounts", "Profile")
    from extagram.posts.models import PHOTO_FIELDS

    named = {n for row in Post.objects.values_list(*PHOTO_FIELDS) for n in row if n}
    avatars = Profile.objects.values_list("avatar_large", "avatar_small")
    named |= {n for row in avatars for n in row if n}
    have = set(stored_names(storage, "photos"))
    missing = sorted(named - have)
    return {
        "named": len(named),
        "missing": len(missing),
        "examples": missing[:EXAMPLES],
        "unnamed": len(have - named),
    }
