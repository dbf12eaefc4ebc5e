"""`extagram-ops backup`/`restore` refuse a stack whose photos are in an S3 bucket.

They copy the media volume, which is empty when EXTAGRAM_S3_BUCKET is set: a backup would
hold the database without its photos. Without Docker: a stand-in Project answering
`docker inspect` with a container environment.
"""

import json
from types import SimpleNamespace

import pytest

from extagram_ops import backup as backups
from extagram_ops.docker import OpsError


class FakeProject:
    """Enough of extagram_ops.docker.Project for backup/restore to reach the check."""

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


def test_backup_refuses_a_stack_whose_photos_are_in_a_bucket(tmp_path):
    project = FakeProject(["EXTAGRAM_ROLE=upload", "EXTAGRAM_S3_BUCKET=photos-prod"])
    with pytest.raises(OpsError, match="bucket 'photos-prod'.*versioning"):
        backups.backup(project, tmp_path / "b")
    assert list(tmp_path.iterdir()) == [], "nothing is written"


def test_restore_refuses_a_stack_whose_photos_are_in_a_bucket(tmp_path, monkeypatch):
    monkeypatch.setattr(backups, "verify", lambda src: {})
    project = FakeProject(["EXTAGRAM_S3_BUCKET=photos-prod"])
    with pytest.raises(OpsError, match="restore refused"):
        backups.restore(project, tmp_path)


def test_an_empty_bucket_variable_means_the_media_volume():
    assert backups.photo_bucket(FakeProject(["EXTAGRAM_S3_BUCKET=", "A=b"])) == ""
    assert backups.photo_bucket(FakeProject(["A=b"])) == ""
