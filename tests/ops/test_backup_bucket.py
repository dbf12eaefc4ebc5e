"""`extagram-ops backup`/`restore` of a stack whose photos are in an S3 bucket.

A backup of such a stack is the database only (the media volume is empty; the bucket's
versioning/replication keeps the photos): its manifest says so, `--verify` checks it,
and a restore never mixes the two kinds: a database-only backup goes into a stack whose
photos are in a bucket, a backup with media files into one whose photos are on the
volume. Without Docker: a stand-in Project answering `docker inspect` with a container
environment. The round trip on real containers and a real S3-API server is in
tests/stack/test_bucket.py (Compose), tests/ops/test_swarm_engine.py (--swarm) and the
database-node drill of drills/cluster.py.
"""

import json
from types import SimpleNamespace

import pytest

from extagram_ops import backup as backups
from extagram_ops.docker import OpsError
from tests.ops.test_cli import make_backup


class FakeProject:
    """Enough of extagram_ops.docker.Project for backup/restore to reach their checks."""

    name = "fake"

    def __init__(self, env):
        self.env = env
        self.calls = []

    def one(self, service):
        return SimpleNamespace(id=f"{service}-id", service=service)

    def docker(self, *args, **kwargs):
        self.calls.append(args)
        if args[:3] == ("inspect", "-f", "{{json .Config.Env}}"):
            return SimpleNamespace(stdout=json.dumps(self.env), returncode=0)
        raise AssertionError(f"unexpected docker call {args}")


def database_only_backup(folder):
    """A backup laid out as `backup` writes it for a stack with a bucket."""
    manifest = make_backup(folder, media={})
    (folder / "media.tar").unlink()
    del manifest["files"]["media.tar"]
    manifest["contents"] = "database"
    manifest["photos"] = {"in_backup": False, "bucket": "photos-prod", "prefix": "", "note": ""}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_a_database_only_backup_verifies_and_says_the_photos_are_not_in_it(tmp_path):
    database_only_backup(tmp_path / "b")
    manifest = backups.verify(tmp_path / "b")
    assert backups.database_only(manifest)
    text = backups.describe(manifest)
    assert "photos: NOT in this backup" in text and "'photos-prod'" in text
    assert "auth_user 2" in text


def test_a_database_only_manifest_that_lists_media_files_is_damaged(tmp_path):
    manifest = database_only_backup(tmp_path / "b")
    manifest["media"]["files"] = {"ab/cd.jpg": "0" * 64}
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OpsError, match="database-only backup whose manifest lists media"):
        backups.verify(tmp_path / "b")


def test_a_backup_with_media_but_no_media_file_in_its_manifest_is_damaged(tmp_path):
    manifest = make_backup(tmp_path / "b")
    del manifest["files"]["media.tar"]
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OpsError, match="media.tar: not in the manifest"):
        backups.verify(tmp_path / "b")


def test_restore_refuses_a_backup_with_media_files_into_a_stack_with_a_bucket(tmp_path):
    make_backup(tmp_path / "b")
    project = FakeProject(["EXTAGRAM_S3_BUCKET=photos-prod"])
    with pytest.raises(OpsError, match="restore refused.*bucket 'photos-prod'.*media volume"):
        backups.restore(project, tmp_path / "b")


def test_restore_refuses_a_database_only_backup_into_a_stack_with_photos_on_the_volume(
    tmp_path,
):
    database_only_backup(tmp_path / "b")
    project = FakeProject(["EXTAGRAM_ROLE=upload"])
    with pytest.raises(OpsError, match="database only.*'photos-prod'.*media volume"):
        backups.restore(project, tmp_path / "b")


def test_the_photo_storage_is_read_from_the_upload_container():
    project = FakeProject(
        [
            "EXTAGRAM_S3_BUCKET=photos-prod",
            "EXTAGRAM_S3_PREFIX=site1",
            "EXTAGRAM_S3_ENDPOINT_URL=https://s3.example.com",
        ]
    )
    assert backups.photo_storage(project) == {
        "bucket": "photos-prod",
        "prefix": "site1",
        "endpoint": "https://s3.example.com",
    }


def test_an_empty_bucket_variable_means_the_media_volume():
    assert backups.photo_bucket(FakeProject(["EXTAGRAM_S3_BUCKET=", "A=b"])) == ""
    assert backups.photo_bucket(FakeProject(["A=b"])) == ""
    assert backups.photo_storage(FakeProject(["EXTAGRAM_S3_PREFIX=x"]))["prefix"] == ""


def test_the_photo_storage_is_read_from_media_when_upload_and_app_are_scaled_to_zero():
    """An operator keeps users out of a restore by scaling app and upload to 0."""

    class Scaled(FakeProject):
        def one(self, service):
            if service in ("upload", "app"):
                raise OpsError(f"service {service!r} has no running container")
            return super().one(service)

    project = Scaled(["EXTAGRAM_S3_BUCKET=photos-prod"])
    assert backups.photo_bucket(project) == "photos-prod"
    assert project.calls[-1][-1] == "media-id"
    assert backups.bucket_vs_rows(project) is None
