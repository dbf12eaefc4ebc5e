from django.core.management import call_command

from extagram.posts.models import Post
from extagram.testing.base import BaseTestCase


class DemoContentTests(BaseTestCase):
    def test_load_demo_creates_users_and_viewable_posts(self):
        call_command("load_demo", posts=3, password="demo-pass-123", verbosity=0)
        self.assertEqual(Post.objects.count(), 3)
        self.assertTrue(self.client.login(username="ana", password="demo-pass-123"))
        response = self.client.get("/")
        self.assertEqual(len(response.context["posts"]), 3)
        post = Post.objects.first()
        self.assertEqual(self.client.get(post.large_url).status_code, 200)
