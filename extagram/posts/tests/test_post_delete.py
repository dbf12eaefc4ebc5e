from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Comment, Like, Post
from extagram.social.models import Notification
from extagram.testing.base import PASSWORD, BaseTestCase


class PostDeleteTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        self.files = [settings.MEDIA_ROOT / name for name in self.post.image_names]

    def test_the_owner_deletes_the_post_and_its_files(self):
        Like.objects.create(post=self.post, user=self.stranger)
        Comment.objects.create(post=self.post, author=self.stranger, body="hi")
        self.assertTrue(all(path.exists() for path in self.files))
        self.client.login(username="alice", password=PASSWORD)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(f"/p/{self.post.pk}/delete/")
        self.assertRedirects(response, "/u/alice/")
        self.assertFalse(Post.objects.exists())
        self.assertFalse(Like.objects.exists() or Comment.objects.exists())
        self.assertFalse(any(path.exists() for path in self.files))

    def test_it_reads_the_posts_notifications_by_their_indexes(self):
        # an OR across the comments' join made MariaDB read every member's notifications
        # (42,000 rows) for each deletion
        Like.toggle(self.post, self.stranger)
        Comment.objects.create(post=self.post, author=self.stranger, body="Bonica")
        self.assertEqual(Notification.objects.count(), 2)
        with CaptureQueriesContext(connection) as captured:
            self.post.delete()
        reads = [
            q["sql"]
            for q in captured
            if q["sql"].startswith("SELECT") and "social_notification" in q["sql"]
        ]
        self.assertGreaterEqual(len(reads), 3)  # the recipients twice, the cascade's rows
        for sql in reads:
            self.assertNotIn(" OR ", sql)
        self.assertEqual(Notification.objects.count(), 0)

    def test_the_owner_is_asked_to_confirm_first(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.get(f"/p/{self.post.pk}/delete/")
        self.assertContains(response, "Delete this post?")
        self.assertTrue(Post.objects.exists())

    def test_a_stranger_cannot_delete_the_post(self):
        self.client.login(username="bob", password=PASSWORD)
        self.assertEqual(self.client.get(f"/p/{self.post.pk}/delete/").status_code, 403)
        self.assertEqual(self.client.post(f"/p/{self.post.pk}/delete/").status_code, 403)
        self.assertTrue(Post.objects.exists())
        self.assertTrue(all(path.exists() for path in self.files))

    def test_anonymous_visitors_cannot_delete_the_post(self):
        response = self.client.post(f"/p/{self.post.pk}/delete/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Post.objects.exists())

    def test_deleting_a_user_removes_their_photos_and_fixes_counts_elsewhere(self):
        other = self.make_post(author=self.stranger)
        Like.objects.create(post=other, user=self.owner)
        with self.captureOnCommitCallbacks(execute=True):
            self.owner.delete()
        other.refresh_from_db()
        self.assertEqual(other.like_count, 0)
        self.assertFalse(any(path.exists() for path in self.files))
