"""`extagram-ops backup`/`restore` of a stack whose photos are in an S3 bucket.

A backup of such a stack holds the bucket's photos in media.tar, like a volume's
(copied through the stack: extagram/core/photo_archive.py, tested against a real S3-API
server in extagram/core/tests/test_photo_archive.py); `backup --database-only` leaves
them out, and its manifest says so; `--verify` checks both kinds; a database-only
backup restores only into a stack whose photos are in a bucket. Without Docker: a
stand-in Project answering `docker inspect` with a container environment. The round
trip on real containers and a real S3-API server is in tests/stack/test_bucket.py
(Compose), tests/ops/test_swarm_engine.py (--swarm) and the database-node drill of
drills/cluster.py.
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


def test_a_backup_with_photos_says_where_they_came_from(tmp_path):
    manifest = make_backup(tmp_path / "b")
    manifest["photos"] = {"in_backup": True, "storage": "bucket", "bucket": "photos-prod"}
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    text = backups.describe(backups.verify(tmp_path / "b"))
    assert "media files: 2 (from the S3 bucket 'photos-prod')" in text
    assert "media files: 2 (from the media volume)" in backups.describe(make_backup(tmp_path / "v"))


def test_a_backup_naming_a_photo_outside_the_storage_is_damaged(tmp_path):
    make_backup(tmp_path / "b", media={"../../etc/cron.d/x": b"evil", "ab/cd.jpg": b"j"})
    with pytest.raises(OpsError, match=r"1 name outside the storage, e.g. ../../etc"):
        backups.verify(tmp_path / "b")


def test_backup_database_only_is_refused_for_a_stack_whose_photos_are_on_the_volume(tmp_path):
    project = FakeProject(["EXTAGRAM_ROLE=upload"])
    with pytest.raises(OpsError, match="--database-only is for a stack whose photos are in"):
        backups.backup(project, tmp_path / "b", database_only=True)
    assert not (tmp_path / "b").exists()


def test_restore_of_photos_into_a_bucket_needs_the_upload_service(tmp_path):
    """A volume's backup may go into a bucket (a migration), through the upload service."""

    class NoUpload(FakeProject):
        def one(self, service):
            if service == "upload":
                raise OpsError("service 'upload' has no running container in 'fake'")
            return super().one(service)

    make_backup(tmp_path / "b")
    project = NoUpload(["EXTAGRAM_S3_BUCKET=photos-prod"])
    with pytest.raises(OpsError, match="go into the S3 bucket 'photos-prod' through the upload"):
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
    assert backups.photos_vs_rows(project) is None


def test_on_a_swarm_the_photo_storage_is_read_from_the_service_spec_not_a_task():
    """A task may run on a node this host's engine does not reach (the engine moved it):
    a database-only backup must not depend on where upload runs."""

    class Swarm(FakeProject):
        def spec_env(self, short):
            assert short == "upload"
            return ["EXTAGRAM_S3_BUCKET=photos-prod", "EXTAGRAM_S3_PREFIX=site1"]

        def one(self, service):
            raise OpsError(f"extagram_{service} runs on node n2, name its engine in ...")

    assert backups.photo_storage(Swarm([])) == {
        "bucket": "photos-prod",
        "prefix": "site1",
        "endpoint": "",
    }


def test_restore_database_only_of_a_backup_with_photos_is_refused_into_a_volume_stack(tmp_path):
    make_backup(tmp_path / "b")
    project = FakeProject(["EXTAGRAM_ROLE=upload"])
    with pytest.raises(OpsError, match="--database-only leaves out the photos.*without --data"):
        backups.restore(project, tmp_path / "b", database_only_=True)
