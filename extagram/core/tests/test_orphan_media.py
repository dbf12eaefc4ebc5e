import os
import time
from io import StringIO
from unittest import mock

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command

from extagram.testing.base import BaseTestCase


class PurgeOrphanMediaTests(BaseTestCase):
    def write_orphan(self, age):
        path = settings.MEDIA_ROOT / "photos" / "ab" / f"{'ab' * 32}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind by a crash")
        then = time.time() - age
        os.utime(path, (then, then))
        return path

    def age_all_files(self):
        for path in (settings.MEDIA_ROOT / "photos").rglob("*.jpg"):
            os.utime(path, (time.time() - 7200, time.time() - 7200))

    def test_it_deletes_old_unreferenced_files_and_keeps_the_posts_files(self):
        post = self.make_post()
        orphan = self.write_orphan(age=7200)
        self.age_all_files()
        aged = len(list((settings.MEDIA_ROOT / "photos").rglob("*.jpg")))  # the orphan's too
        out = StringIO()
        call_command("purge_orphan_media", stdout=out)
        self.assertFalse(orphan.exists())
        for name in post.image_names:
            self.assertTrue((settings.MEDIA_ROOT / name).exists())
        self.assertIn(f"deleted {orphan.relative_to(settings.MEDIA_ROOT)}\n", out.getvalue())
        summary = out.getvalue().splitlines()[-2:]
        self.assertEqual(
            summary,
            [
                f"Checked {aged} stored photo files and 0 file records (StoredFile rows) not "
                "touched for 3600 s or more; newer ones were left alone (they may belong to "
                "uploads in progress).",
                "Found 1 orphan (a file or record no post or profile picture uses): deleted 1 "
                "(listed above). Everything else is in use and was kept.",
            ],
        )

    def test_it_leaves_recent_files_alone_as_they_may_be_uploads_in_flight(self):
        orphan = self.write_orphan(age=10)
        call_command("purge_orphan_media", stdout=StringIO())
        self.assertTrue(orphan.exists())

    def test_a_dry_run_deletes_nothing(self):
        orphan = self.write_orphan(age=7200)
        out = StringIO()
        call_command("purge_orphan_media", dry_run=True, stdout=out)
        self.assertTrue(orphan.exists())
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[0], f"would delete {orphan.relative_to(settings.MEDIA_ROOT)}")
        self.assertTrue(lines[-1].startswith("Found 1 orphan (a file or record"), lines)
        self.assertTrue(lines[-1].endswith(": listed above; nothing deleted (--dry-run)."), lines)

    def test_the_summary_says_when_nothing_is_an_orphan(self):
        self.make_post()
        self.age_all_files()
        out = StringIO()
        call_command("purge_orphan_media", stdout=out)
        self.assertEqual(
            out.getvalue().splitlines()[-1],
            "No orphans: every one is in use by a post or a profile picture.",
        )

    def test_the_summary_counts_an_orphan_that_could_not_be_deleted(self):
        orphan = self.write_orphan(age=7200)
        out = StringIO()
        with (
            mock.patch.object(default_storage, "delete", side_effect=PermissionError("ro")),
            self.assertLogs("extagram.posts.models", "ERROR"),
        ):
            call_command("purge_orphan_media", stdout=out)
        self.assertTrue(orphan.exists())
        self.assertIn(
            "Found 1 orphan (a file or record no post or profile picture uses): deleted 0 "
            "(listed above), could not delete 1 (see the log; the next sweep tries again).",
            out.getvalue(),
        )
