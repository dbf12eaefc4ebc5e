"""`extagram-ops restore` when the restored rows name photo files the stack's storage
lacks: exit 1 saying how many and what to do (the restored data stays), or exit 0 with
--allow-missing-photos. Without Docker: the restore itself is stood in for (the real one
against a bucket, with an object deleted, is in tests/stack/test_bucket.py)."""

from types import SimpleNamespace

import pytest

from extagram_ops import backup as backups
from extagram_ops import cli
from tests.ops.test_cli import make_backup


def restored_manifest(folder, missing, database_only=False):
    """The manifest restore() returns after its check found `missing` files missing."""
    manifest = make_backup(folder)
    examples = [f"photos/ab/{n:064x}.jpg" for n in range(min(missing, 5))]
    manifest["restore"] = {
        "photos_vs_rows": {"named": 6, "missing": missing, "examples": examples, "unnamed": 0},
        "photos_in": "the S3 bucket 'photos-prod'",
        "database_only": database_only,
    }
    return manifest


@pytest.fixture
def restore_finding(monkeypatch, tmp_path):
    """Run `cmd_restore` with the restore returning a manifest that found N missing."""
    monkeypatch.setenv("EXTAGRAM_OPS_STATE_DIR", str(tmp_path / "state"))

    def run(missing, *options, database_only=False):
        manifest = restored_manifest(tmp_path / f"b{missing}", missing, database_only)
        monkeypatch.setattr(backups, "restore", lambda *args, **kwargs: manifest)
        args = cli.build_parser().parse_args(["restore", str(tmp_path / "b"), *options])
        return cli.cmd_restore(SimpleNamespace(name="p"), args)

    return run


def test_a_restore_whose_rows_name_missing_photos_fails_saying_how_many(restore_finding):
    with pytest.raises(cli.OpsError) as error:
        restore_finding(2)
    text = str(error.value)
    assert text.startswith(
        "restore incomplete: the restored rows name 2 photo files that are not in the S3 "
        "bucket 'photos-prod' (e.g. photos/ab/"
    )
    assert "Everything else was restored and verified, and stays." in text
    assert "an older backup's media.tar" in text
    assert "--allow-missing-photos" in text


def test_one_missing_photo_is_counted_in_the_singular(restore_finding):
    with pytest.raises(cli.OpsError, match="name 1 photo file that is not in .* use it show"):
        restore_finding(1)


def test_a_database_only_restore_points_at_the_bucket_s_versions(restore_finding):
    with pytest.raises(cli.OpsError, match="from the bucket's versioning \\(as of 2026"):
        restore_finding(3, database_only=True)


def test_allow_missing_photos_exits_0_and_still_says_so(restore_finding, capsys):
    assert restore_finding(2, "--allow-missing-photos") == 0
    captured = capsys.readouterr()
    assert "photos vs rows: 6 photo files named, 2 missing from the storage" in captured.out
    assert "--allow-missing-photos: 2 missing photo files accepted" in captured.err


def test_a_restore_with_every_photo_in_place_exits_0(restore_finding, capsys):
    assert restore_finding(0) == 0
    assert "0 missing from the storage" in capsys.readouterr().out


def test_the_cli_exits_1_with_the_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EXTAGRAM_OPS_STATE_DIR", str(tmp_path / "state"))
    manifest = restored_manifest(tmp_path / "b", 4)
    monkeypatch.setattr(backups, "restore", lambda *args, **kwargs: manifest)
    project = SimpleNamespace(name="p", check_engine=lambda: None, check_networks=lambda: None)
    monkeypatch.setattr(cli, "Project", lambda *args: project)
    assert cli.main(["restore", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert "extagram-ops restore: error: restore incomplete: the restored rows name 4" in err
