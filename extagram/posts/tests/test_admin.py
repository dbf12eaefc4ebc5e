from extagram.posts.models import Comment, Like, Post
from extagram.testing.base import PASSWORD, BaseTestCase


class AdminModerationTests(BaseTestCase):
    def test_staff_can_list_and_delete_any_post_in_admin(self):
        post = self.make_post(author=self.stranger, caption="rule breaking")
        self.client.login(username="sam", password=PASSWORD)
        self.assertContains(self.client.get("/admin/posts/post/"), "rule breaking")
        response = self.client.post(f"/admin/posts/post/{post.pk}/delete/", {"post": "yes"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Post.objects.exists())

    def test_members_cannot_use_admin(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.get("/admin/posts/post/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/admin/login/", response["Location"])


class AdminKeepsWhatMembersMadeTests(BaseTestCase):
    """A like or comment stays on its post and member (moving it drifts both posts'
    counts); creation times are read-only (the admin's inputs drop microseconds)."""

    def setUp(self):
        self.first, self.second = self.make_post(), self.make_post()
        self.client.login(username="sam", password=PASSWORD)

    def test_the_comment_change_form_does_not_move_a_comment(self):
        comment = Comment.objects.create(post=self.first, author=self.stranger, body="hi")
        url = f"/admin/posts/comment/{comment.pk}/change/"
        form = {
            "post": self.second.pk,
            "author": self.staff.pk,
            "body": "[removed by staff]",
        }
        self.assertEqual(self.client.post(url, form).status_code, 302)
        comment.refresh_from_db()
        self.assertEqual(comment.body, "[removed by staff]")
        self.assertEqual((comment.post_id, comment.author_id), (self.first.pk, self.stranger.pk))
        self.first.refresh_from_db()
        self.second.refresh_from_db()
        self.assertEqual((self.first.comment_count, self.second.comment_count), (1, 0))

    def test_the_like_change_form_does_not_move_a_like(self):
        like = Like.objects.create(post=self.first, user=self.stranger)
        url = f"/admin/posts/like/{like.pk}/change/"
        page = self.client.post(url, {"post": self.second.pk, "user": self.staff.pk})
        self.assertEqual(page.status_code, 302)
        like.refresh_from_db()
        self.assertEqual((like.post_id, like.user_id), (self.first.pk, self.stranger.pk))
        self.first.refresh_from_db()
        self.assertEqual(self.first.like_count, 1)

    def test_a_save_in_the_admin_keeps_the_creation_time_to_the_microsecond(self):
        comment = Comment.objects.create(post=self.first, author=self.stranger, body="hi")
        post = Post.objects.get(pk=self.first.pk)
        self.assertNotEqual((comment.created_at.microsecond, post.created_at.microsecond), (0, 0))
        url = f"/admin/posts/comment/{comment.pk}/change/"
        self.assertEqual(self.client.post(url, {"body": "[removed by staff]"}).status_code, 302)
        form = {"caption": "moderated", "alt_text": "", "author": self.owner.pk}
        page = self.client.post(f"/admin/posts/post/{post.pk}/change/", form)
        self.assertEqual(page.status_code, 302)
        self.assertEqual(Comment.objects.get(pk=comment.pk).created_at, comment.created_at)
        self.assertEqual(Post.objects.get(pk=post.pk).created_at, post.created_at)

    def test_staff_still_add_a_comment_on_any_post(self):
        form = {"post": self.second.pk, "author": self.staff.pk, "body": "Welcome!"}
        self.assertEqual(self.client.post("/admin/posts/comment/add/", form).status_code, 302)
        self.second.refresh_from_db()
        self.assertEqual(self.second.comment_count, 1)

    def test_staff_cannot_add_a_post_without_its_photo(self):
        # the add form had no photo: a post with only an author was a database error (500)
        before = Post.objects.count()
        self.assertEqual(self.client.get("/admin/posts/post/add/").status_code, 403)
        response = self.client.post("/admin/posts/post/add/", {"author": self.owner.pk})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(Post.objects.count(), before)
        self.assertNotContains(self.client.get("/admin/posts/post/"), "/admin/posts/post/add/")
