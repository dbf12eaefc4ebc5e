from extagram.posts.models import Comment
from extagram.testing.base import PASSWORD, BaseTestCase


class CommentTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()

    def login(self, username):
        self.client.login(username=username, password=PASSWORD)

    def test_a_member_adds_a_comment_that_shows_on_the_post(self):
        self.login("bob")
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": "Lovely <b>shot</b>"})
        self.assertRedirects(
            response, f"/p/{self.post.pk}/#comments", fetch_redirect_response=False
        )
        page = self.client.get(f"/p/{self.post.pk}/")
        self.assertContains(page, "Lovely &lt;b&gt;shot&lt;/b&gt;")
        self.post.refresh_from_db()
        self.assertEqual(self.post.comment_count, 1)

    def test_an_empty_or_too_long_comment_is_refused(self):
        self.login("bob")
        for body in ("", "x" * 1001):
            response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": body})
            self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_anonymous_visitors_cannot_comment(self):
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": "hi"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Comment.objects.exists())

    def test_the_author_of_a_comment_deletes_it(self):
        comment = Comment.objects.create(post=self.post, author=self.stranger, body="oops")
        self.login("bob")
        self.client.post(f"/c/{comment.pk}/delete/")
        self.assertFalse(Comment.objects.exists())
        self.post.refresh_from_db()
        self.assertEqual(self.post.comment_count, 0)

    def test_the_author_of_the_post_deletes_any_comment_on_it(self):
        comment = Comment.objects.create(post=self.post, author=self.stranger, body="spam")
        self.login("alice")
        self.client.post(f"/c/{comment.pk}/delete/")
        self.assertFalse(Comment.objects.exists())

    def test_a_stranger_cannot_delete_someone_elses_comment(self):
        comment = Comment.objects.create(post=self.post, author=self.owner, body="mine")
        self.login("bob")
        response = self.client.post(f"/c/{comment.pk}/delete/")
        self.assertEqual(response.status_code, 403)
        self.assertTrue(Comment.objects.filter(pk=comment.pk).exists())

    def test_the_delete_button_shows_only_to_those_who_may_use_it(self):
        Comment.objects.create(post=self.post, author=self.staff, body="nice")
        self.login("bob")
        self.assertNotContains(self.client.get(f"/p/{self.post.pk}/"), "/delete/")
        self.login("alice")
        self.assertContains(self.client.get(f"/p/{self.post.pk}/"), "/c/")

    def test_a_new_comment_updates_the_count_on_cached_feed_cards(self):
        self.assertContains(self.client.get("/explore/"), "0 comments")
        self.login("bob")
        self.client.post(f"/p/{self.post.pk}/comments/", {"body": "first"})
        self.assertContains(self.client.get("/explore/"), "1 comment")
