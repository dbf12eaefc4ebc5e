"""Form actions (POST-only views) answer a GET with the page the form was on
(core.views.form_action): a form posted signed out comes back as a GET after signing in."""

from extagram.posts.models import Comment, Like
from extagram.social.models import Follow
from extagram.testing.base import PASSWORD, BaseTestCase


class FormActionTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        self.comment = Comment.add(self.post, self.stranger, "hello")

    def test_a_like_form_sent_signed_out_lands_on_the_post_after_signing_in(self):
        response = self.client.post(f"/p/{self.post.pk}/like/")
        self.assertIn(f"next=/p/{self.post.pk}/like/", response["Location"])
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.get(f"/p/{self.post.pk}/like/")
        self.assertEqual((response.status_code, response["Location"]), (302, f"/p/{self.post.pk}/"))
        self.assertFalse(Like.objects.exists())

    def test_every_form_action_sends_a_get_to_its_page_and_changes_nothing(self):
        self.client.login(username="bob", password=PASSWORD)
        pages = {
            f"/p/{self.post.pk}/like/": f"/p/{self.post.pk}/",
            f"/p/{self.post.pk}/comments/": f"/p/{self.post.pk}/",
            f"/c/{self.comment.pk}/delete/": f"/p/{self.post.pk}/",
            "/u/alice/follow/": "/u/alice/",
            "/u/alice/unfollow/": "/u/alice/",
            "/upload/avatar/": "/accounts/profile/",
            "/upload/avatar/remove/": "/accounts/profile/",
            "/notifications/read/": "/notifications/",
        }
        for path, page in pages.items():
            response = self.client.get(path)
            self.assertEqual((response.status_code, response["Location"]), (302, page), path)
            self.assertEqual(self.client.put(path).status_code, 405, path)
        self.assertEqual(Comment.objects.count(), 1)
        self.assertFalse(Like.objects.exists() or Follow.objects.exists())

    def test_a_get_for_a_comment_that_is_gone_is_a_404(self):
        self.client.login(username="bob", password=PASSWORD)
        self.assertEqual(self.client.get("/c/999999/delete/").status_code, 404)
