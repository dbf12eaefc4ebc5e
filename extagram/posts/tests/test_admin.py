from extagram.posts.models import Post
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
