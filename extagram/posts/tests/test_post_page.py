from extagram.posts.models import Comment
from extagram.testing.base import BaseTestCase


class PostPageTests(BaseTestCase):
    def test_it_shows_the_photo_caption_likes_and_comments(self):
        post = self.make_post(caption="My cat")
        Comment.objects.create(post=post, author=self.stranger, body="So cute")
        response = self.client.get(f"/p/{post.pk}/")
        self.assertContains(response, "My cat")
        self.assertContains(response, "So cute")
        self.assertContains(response, "0 likes")
        self.assertContains(response, "Log in to comment")

    def test_a_missing_post_is_a_friendly_404(self):
        response = self.client.get("/p/424242/")
        self.assertContains(response, "Page not found", status_code=404)

    def test_alt_text_defaults_to_naming_the_author(self):
        post = self.make_post()
        self.assertContains(self.client.get(f"/p/{post.pk}/"), 'alt="Photo by alice"')
