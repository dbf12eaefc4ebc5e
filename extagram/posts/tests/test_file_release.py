"""A deleted post's files are released together, in one short transaction, and one file
that cannot be deleted keeps no other."""

from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.accounts.models import Profile
from extagram.posts.models import Post, StoredFile
from extagram.testing.base import BaseTestCase


def stored(name):
    return (Path(settings.MEDIA_ROOT) / name).exists()


class FileReleaseTests(BaseTestCase):
    def gone_posts(self, count):
        """`count` posts deleted without their files released (the release runs on commit,
        which a TestCase never reaches)."""
        posts = [self.make_post() for _ in range(count)]
        Post.objects.filter(pk__in=[post.pk for post in posts]).delete()
        return posts

    def test_each_further_file_of_a_post_costs_only_its_two_reads(self):
        first, second = self.gone_posts(2)
        self.assertGreater(len(second.image_names), 1)
        with CaptureQueriesContext(connection) as one:
            StoredFile.objects.release(first.image_names[:1])
        with CaptureQueriesContext(connection) as all_of_them:
            released = StoredFile.objects.release(second.image_names)
        # one transaction, one lock and one delete for them all (one each a file before)
        self.assertEqual(len(all_of_them) - len(one), 2 * (len(second.image_names) - 1))
        self.assertEqual(released, sorted(second.image_names))
        self.assertFalse([name for name in second.image_names if stored(name)])
        self.assertFalse(StoredFile.objects.filter(name__in=second.image_names).exists())

    def test_a_file_in_use_is_kept_and_the_others_released(self):
        (gone,) = self.gone_posts(1)
        kept = self.make_post()
        names = [*gone.image_names, kept.image_large]
        self.assertEqual(StoredFile.objects.release(names), sorted(gone.image_names))
        self.assertTrue(stored(kept.image_large))
        self.assertTrue(StoredFile.objects.filter(name=kept.image_large).exists())

    def test_a_file_a_profile_picture_uses_is_kept(self):
        (gone,) = self.gone_posts(1)
        shared = gone.image_names[0]
        Profile.objects.filter(user=self.owner).update(avatar_large=shared)
        released = StoredFile.objects.release(gone.image_names)
        self.assertEqual(released, sorted(set(gone.image_names) - {shared}))
        self.assertTrue(stored(shared))

    def test_a_file_that_cannot_be_deleted_keeps_no_other(self):
        (post,) = self.gone_posts(1)
        failing = sorted(post.image_names)[1]
        delete = default_storage.delete

        def delete_but_one(name):
            if name == failing:
                raise OSError("the disk refused")
            delete(name)

        with (
            mock.patch.object(default_storage, "delete", side_effect=delete_but_one),
            self.assertLogs("extagram.posts.models", "ERROR") as logged,
        ):
            released = StoredFile.objects.release(post.image_names)
        self.assertEqual(released, sorted(set(post.image_names) - {failing}))
        self.assertTrue(stored(failing))
        self.assertEqual(list(StoredFile.objects.values_list("name", flat=True)), [failing])
        self.assertIn(failing, logged.output[0])
