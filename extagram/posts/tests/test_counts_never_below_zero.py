"""A post's like and comment counts are unsigned columns (a CHECK on SQLite, UNSIGNED on
MariaDB): a count that has drifted to 0 while a like or comment is still there (a row
moved or inserted outside the app) must not turn its removal into a database error and a
500 (the admin cannot move a like or a comment: test_admin.py)."""

from django.contrib.auth import get_user_model

from extagram.accounts.erasure import delete_account
from extagram.posts.models import Comment, Like, Post
from extagram.testing.base import PASSWORD, BaseTestCase


class CountsNeverBelowZeroTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()

    def drift_to_zero(self):
        Post.objects.filter(pk=self.post.pk).update(like_count=0, comment_count=0)

    def counts(self):
        self.post.refresh_from_db()
        return self.post.like_count, self.post.comment_count

    def test_unliking_a_post_whose_count_drifted_to_zero_works(self):
        Like.objects.create(post=self.post, user=self.stranger)
        self.drift_to_zero()
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.post(f"/p/{self.post.pk}/like/", {"next": "/"})
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertFalse(Like.objects.exists())
        self.assertEqual(self.counts(), (0, 0))

    def test_deleting_a_comment_whose_post_count_drifted_to_zero_works(self):
        comment = Comment.objects.create(post=self.post, author=self.stranger, body="hi")
        self.drift_to_zero()
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.post(f"/c/{comment.pk}/delete/")
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Comment.objects.exists())
        self.assertEqual(self.counts(), (0, 0))

    def test_deleting_an_account_whose_likes_and_comments_drifted_works(self):
        Like.objects.create(post=self.post, user=self.stranger)
        for body in ("one", "two"):
            Comment.objects.create(post=self.post, author=self.stranger, body=body)
        Post.objects.filter(pk=self.post.pk).update(like_count=0, comment_count=1)
        delete_account(self.stranger)
        self.assertFalse(get_user_model().objects.filter(username="bob").exists())
        self.assertEqual(self.counts(), (0, 0))

    def test_the_admin_account_deletion_with_drifted_counts_works(self):
        Like.objects.create(post=self.post, user=self.stranger)
        Comment.objects.create(post=self.post, author=self.stranger, body="hi")
        self.drift_to_zero()
        self.client.login(username="sam", password=PASSWORD)
        url = f"/admin/auth/user/{self.stranger.pk}/delete/"
        self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 302)
        self.assertEqual(self.counts(), (0, 0))

    def test_the_counts_still_fall_by_what_was_removed(self):
        Like.objects.create(post=self.post, user=self.stranger)
        Like.objects.create(post=self.post, user=self.staff)
        for body in ("one", "two", "three"):
            Comment.objects.create(post=self.post, author=self.stranger, body=body)
        self.assertEqual(self.counts(), (2, 3))
        delete_account(self.stranger)
        self.assertEqual(self.counts(), (1, 0))
