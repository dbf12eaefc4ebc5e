"""What crashes leave behind is swept up, under the same locks as every deletion,
and the sweep runs by itself in the upload role and the embedded default."""

import os
import time
from datetime import timedelta
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, TransactionTestCase, override_settings
from django.utils import timezone

from extagram.posts.middleware import MediaSweepMiddleware
from extagram.posts.models import Post, StoredFile
from extagram.testing.base import BaseTestCase
from extagram.testing.images import jpeg_bytes
from extagram.uploads.images import process_photo

HOUR = 3600


def age(name, seconds):
    then = time.time() - seconds
    os.utime(settings.MEDIA_ROOT / name, (then, then))


def write_file(name, data=b"left behind"):
    path = settings.MEDIA_ROOT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class CrashLeftoverTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        for name in self.post.image_names:
            age(name, 2 * HOUR)
        StoredFile.objects.update(touched_at=timezone.now() - timedelta(hours=2))

    def sweep(self, grace=HOUR):
        return StoredFile.objects.sweep(grace=grace)["deleted"]

    def test_a_file_left_by_a_poster_that_died_before_its_commit_is_swept(self):
        orphan = "photos/ab/" + "ab" * 32 + ".jpg"
        path = write_file(orphan)
        age(orphan, 2 * HOUR)
        self.assertEqual(self.sweep(), [orphan])
        self.assertFalse(path.exists())
        self.assertFalse(StoredFile.objects.filter(name=orphan).exists())

    def test_the_files_of_a_deletion_whose_clean_up_never_ran_are_swept(self):
        with self.captureOnCommitCallbacks(execute=False):  # the process died here
            self.post.delete()
        self.assertTrue(all((settings.MEDIA_ROOT / n).exists() for n in self.post.image_names))
        self.assertEqual(sorted(self.sweep()), sorted(self.post.image_names))
        self.assertFalse(any((settings.MEDIA_ROOT / n).exists() for n in self.post.image_names))
        self.assertFalse(StoredFile.objects.exists())

    def test_a_row_whose_file_is_gone_and_no_post_uses_is_swept(self):
        StoredFile.objects.create(
            name="photos/cd/gone.jpg", touched_at=timezone.now() - timedelta(hours=2)
        )
        self.assertEqual(self.sweep(), ["photos/cd/gone.jpg"])
        self.assertEqual(StoredFile.objects.count(), len(self.post.image_names))

    def test_files_and_rows_of_live_posts_are_never_swept(self):
        self.assertEqual(self.sweep(grace=0), [])
        self.assertTrue(all((settings.MEDIA_ROOT / n).exists() for n in self.post.image_names))
        # its JPEGs and WebPs
        self.assertEqual(len(self.post.image_names), 4)
        self.assertEqual(StoredFile.objects.count(), 4)

    def test_what_was_touched_within_the_grace_period_is_left_alone(self):
        orphan = "photos/ef/" + "ef" * 32 + ".jpg"
        write_file(orphan)  # just written, e.g. by an older version during an upgrade
        self.assertEqual(self.sweep(), [])
        age(orphan, 2 * HOUR)
        StoredFile.objects.lock([orphan])  # touched just now, under the lock
        self.assertEqual(self.sweep(), [])
        self.assertEqual(self.sweep(grace=0), [orphan])

    def test_a_file_cut_short_by_a_crash_is_written_again_by_the_next_poster(self):
        photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes()), max_pixels=10**8)
        first = Post.objects.create_with_photo(self.owner, photo)
        large = settings.MEDIA_ROOT / first.image_large
        whole = large.read_bytes()
        large.write_bytes(whole[: len(whole) // 2])
        Post.objects.create_with_photo(self.stranger, photo)
        self.assertEqual(large.read_bytes(), whole)

    def test_deleting_a_post_deletes_its_files_and_rows_at_once(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.post.delete()
        self.assertFalse(any((settings.MEDIA_ROOT / n).exists() for n in self.post.image_names))
        self.assertFalse(StoredFile.objects.exists())

    def test_the_migration_gives_existing_posts_files_their_rows(self):
        from importlib import import_module

        migration = import_module("extagram.posts.migrations.0003_stored_files_and_submissions")
        StoredFile.objects.all().delete()
        migration.add_rows_for_existing_files(apps, SimpleNamespace(connection=connection))
        self.assertEqual(  # the posts of that time had their two JPEGs only
            sorted(StoredFile.objects.values_list("name", flat=True)),
            sorted([self.post.image_large, self.post.image_small]),
        )


class SweepScheduleTests(TransactionTestCase):
    def setUp(self):
        cache.clear()
        self.orphan = "photos/ab/" + "ab" * 32 + ".jpg"
        write_file(self.orphan)
        age(self.orphan, 2 * HOUR)
        get_user_model().objects.create_user("frank")

    def run_middleware(self, middleware=None, path="/healthz"):
        middleware = middleware or MediaSweepMiddleware(lambda request: HttpResponse("ok"))
        response = middleware(RequestFactory().get(path))
        self.assertEqual(response.status_code, 200)
        if middleware.thread is not None:
            middleware.thread.join(timeout=30)
        return middleware

    @override_settings(MEDIA_SWEEP_INTERVAL=900, ROLE="upload")
    def test_the_upload_role_sweeps_in_the_background_once_per_interval(self):
        middleware = self.run_middleware()
        self.assertFalse((settings.MEDIA_ROOT / self.orphan).exists())
        first = middleware.thread
        write_file(self.orphan)
        age(self.orphan, 2 * HOUR)
        self.run_middleware(middleware)
        self.assertIs(middleware.thread, first)  # not due again for 900 s
        self.assertTrue((settings.MEDIA_ROOT / self.orphan).exists())

    @override_settings(MEDIA_SWEEP_INTERVAL=900, ROLE="all")
    def test_the_embedded_default_sweeps_too(self):
        self.run_middleware(path="/")
        self.assertFalse((settings.MEDIA_ROOT / self.orphan).exists())

    @override_settings(MEDIA_SWEEP_INTERVAL=900, ROLE="app")
    def test_the_app_role_leaves_sweeping_to_the_upload_role(self):
        middleware = self.run_middleware()
        self.assertIsNone(middleware.thread)
        self.assertTrue((settings.MEDIA_ROOT / self.orphan).exists())

    @override_settings(MEDIA_SWEEP_INTERVAL=900, ROLE="upload")
    def test_another_process_does_not_repeat_a_sweep_within_the_interval(self):
        self.run_middleware()
        write_file(self.orphan)
        age(self.orphan, 2 * HOUR)
        self.run_middleware()  # a second worker or container: the shared lease is taken
        self.assertTrue((settings.MEDIA_ROOT / self.orphan).exists())

    @override_settings(MEDIA_SWEEP_INTERVAL=0, ROLE="upload")
    def test_an_interval_of_0_turns_it_off(self):
        self.assertIsNone(self.run_middleware().thread)
        self.assertTrue((settings.MEDIA_ROOT / self.orphan).exists())
