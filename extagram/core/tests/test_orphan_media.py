import os
import time
from io import StringIO

from django.conf import settings
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
        out = StringIO()
        call_command("purge_orphan_media", stdout=out)
        self.assertFalse(orphan.exists())
        for name in post.image_names:
            self.assertTrue((settings.MEDIA_ROOT / name).exists())
        self.assertIn("deleted 1 orphans", out.getvalue())

    def test_it_leaves_recent_files_alone_as_they_may_be_uploads_in_flight(self):
        orphan = self.write_orphan(age=10)
        call_command("purge_orphan_media", stdout=StringIO())
        self.assertTrue(orphan.exists())

    def test_a_dry_run_deletes_nothing(self):
        orphan = self.write_orphan(age=7200)
        out = StringIO()
        call_command("purge_orphan_media", dry_run=True, stdout=out)
        self.assertTrue(orphan.exists())
        self.assertIn("would delete 1", out.getvalue())
