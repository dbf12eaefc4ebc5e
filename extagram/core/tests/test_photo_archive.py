"""The photo storage as a tar (extagram/core/photo_archive.py, `manage.py photo_archive`):
what `extagram-ops backup`/`restore` copy, for the media volume and an S3 bucket alike,
against a real S3-API server process (moto_server, test scaffolding)."""

import hashlib
import io
import json
import sys
import tarfile
from unittest import mock

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from extagram.core import photo_archive
from extagram.posts.models import Post
from extagram.testing.base import BaseTestCase
from extagram.testing.s3server import BucketTestMixin
from extagram_ops.backup import media_sums_tar


def tar_of(files):
    """A tar (bytes) of {name: bytes}, names as given."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def stored(names):
    """{name: bytes} of these names in the default storage."""
    result = {}
    for name in names:
        with default_storage.open(name, "rb") as fh:
            result[name] = fh.read()
    return result


class PhotoArchiveTests(BucketTestMixin, BaseTestCase):
    def export(self):
        out = io.BytesIO()
        report = photo_archive.write_tar(out)
        return out.getvalue(), report

    def test_a_volume_exported_and_imported_into_a_bucket_is_byte_identical(self):
        posts = [self.make_post(), self.make_post()]
        names = sorted({n for p in posts for n in p.image_names})
        on_volume = stored(names)
        archive, report = self.export()
        self.assertEqual(report["files"], len(names))
        self.assertEqual(report["vanished"], [])

        bucket = self.in_bucket()
        result = photo_archive.read_tar(io.BytesIO(archive))
        self.assertEqual(self.server.keys(bucket), names)
        self.assertEqual(stored(names), on_volume)
        self.assertEqual((result["files"], result["written"], result["unchanged"]), (4 * 2, 8, 0))
        sums = {n: hashlib.sha256(d).hexdigest() for n, d in on_volume.items()}
        self.assertEqual(result["sums"], sums)
        self.assertEqual(result["extra"], 0)

    def test_a_bucket_exported_is_the_tar_a_volume_backup_has(self):
        self.in_bucket()
        post = self.make_post()
        archive, _report = self.export()
        path = self.tmp_file(archive)
        expected = {n: hashlib.sha256(d).hexdigest() for n, d in stored(post.image_names).items()}
        # extagram-ops computes the manifest's sums from the tar the same way for both
        self.assertEqual(media_sums_tar(path), expected)
        with tarfile.open(path) as tar:
            self.assertTrue(all(m.isfile() and not m.name.startswith("/") for m in tar))

    def tmp_file(self, data):
        path = settings.MEDIA_ROOT.parent / "archive.tar"
        path.write_bytes(data)
        return path

    def test_the_export_counts_and_skips_a_file_deleted_while_it_runs(self):
        post = self.make_post()
        gone = post.image_large
        real_open = default_storage.open

        def open_(name, *args):
            if name == gone:
                default_storage.delete(name)
            return real_open(name, *args)

        with mock.patch.object(default_storage, "open", open_):
            archive, report = self.export()
        self.assertEqual(report["vanished"], [gone])
        self.assertEqual(report["files"], len(post.image_names) - 1)

    def test_an_import_writes_only_what_is_missing_or_different(self):
        bucket = self.in_bucket()
        good = {"photos/aa/one.jpg": b"one", "photos/bb/two.jpg": b"two"}
        default_storage.save("photos/aa/one.jpg", ContentFile(b"one"))
        default_storage.save("photos/bb/two.jpg", ContentFile(b"cut sh"))
        result = photo_archive.read_tar(io.BytesIO(tar_of(good)))
        self.assertEqual((result["written"], result["unchanged"]), (1, 1))
        self.assertEqual(stored(good), good)
        self.assertEqual(self.server.keys(bucket), sorted(good))

    def test_an_import_reads_the_names_of_a_tar_of_the_volume(self):
        """Earlier backups: `tar -C /data/media -cf - .` (./-names and folder members)."""
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            for folder in (".", "./photos", "./photos/cd"):
                info = tarfile.TarInfo(folder)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            info = tarfile.TarInfo("./photos/cd/x.jpg")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"jpg"))
        result = photo_archive.read_tar(io.BytesIO(out.getvalue()))
        self.assertEqual(result["files"], 1)
        self.assertEqual(stored(["photos/cd/x.jpg"]), {"photos/cd/x.jpg": b"jpg"})

    def test_an_import_refuses_a_name_outside_the_storage(self):
        with self.assertRaisesMessage(photo_archive.ArchiveError, "not a relative name"):
            photo_archive.read_tar(io.BytesIO(tar_of({"../../etc/passwd": b"root"})))
        self.assertFalse((settings.MEDIA_ROOT.parent / "etc").exists())

    def test_files_not_in_the_archive_stay_unless_pruned_and_pruning_spares_named_ones(self):
        self.in_bucket()
        post = self.make_post()
        default_storage.save("photos/ee/orphan.jpg", ContentFile(b"orphan"))
        archive = tar_of({"photos/ff/kept.jpg": b"kept"})
        result = photo_archive.read_tar(io.BytesIO(archive))
        self.assertEqual(result["extra"], len(post.image_names) + 1)
        self.assertEqual(result["pruned"], 0)
        self.assertTrue(default_storage.exists("photos/ee/orphan.jpg"))

        result = photo_archive.read_tar(io.BytesIO(archive), prune=True)
        self.assertEqual(result["pruned"], 1)
        self.assertEqual(result["kept_in_use"], len(post.image_names))
        self.assertFalse(default_storage.exists("photos/ee/orphan.jpg"))
        self.assertTrue(all(default_storage.exists(n) for n in post.image_names))
        self.assertTrue(default_storage.exists("photos/ff/kept.jpg"))

    def test_the_check_names_the_photos_the_rows_name_that_storage_lacks(self):
        self.in_bucket()
        post = self.make_post()
        default_storage.delete(post.image_small)
        default_storage.save("photos/ee/orphan.jpg", ContentFile(b"orphan"))
        out = io.StringIO()
        call_command("photo_archive", "check", stdout=out)
        report = json.loads(out.getvalue())
        self.assertEqual(report["named"], len(post.image_names))
        self.assertEqual((report["missing"], report["examples"]), (1, [post.image_small]))
        self.assertEqual(report["unnamed"], 1)

    def test_the_command_round_trips_through_stdin_and_stdout(self):
        post = self.make_post()
        before = stored(post.image_names)
        stdout = io.TextIOWrapper(io.BytesIO(), write_through=True)
        quiet = mock.patch.object(sys, "stderr", io.StringIO())
        with mock.patch.object(sys, "stdout", stdout), quiet:
            call_command("photo_archive", "export")
        archive = stdout.buffer.getvalue()

        bucket = self.in_bucket()
        out = io.StringIO()
        stdin = io.TextIOWrapper(io.BytesIO(archive))
        with mock.patch.object(sys, "stdin", stdin):
            call_command("photo_archive", "import", stdout=out)
        self.assertEqual(json.loads(out.getvalue())["written"], len(before))
        self.assertEqual(self.server.keys(bucket), sorted(before))
        self.assertEqual(stored(post.image_names), before)
        count = io.StringIO()
        call_command("photo_archive", "count", stdout=count)
        self.assertEqual(json.loads(count.getvalue()), {"files": len(before)})
        garbage = io.TextIOWrapper(io.BytesIO(b"not a tar" * 100))
        refused = self.assertRaisesMessage(CommandError, "import stopped")
        with mock.patch.object(sys, "stdin", garbage), refused:
            call_command("photo_archive", "import", stdout=io.StringIO())
        self.assertEqual(Post.objects.count(), 1)
