from io import StringIO

from django.core.management import call_command

from extagram.posts.models import Post
from extagram.testing.base import BaseTestCase


class SeedPostsTests(BaseTestCase):
    def test_it_tops_the_database_up_to_the_wanted_number_of_viewable_posts(self):
        call_command("seed_posts", posts=2500, users=5, photos=2, stdout=StringIO())
        self.assertEqual(Post.objects.count(), 2500)
        call_command("seed_posts", posts=2600, users=5, photos=2, stdout=StringIO())
        self.assertEqual(Post.objects.count(), 2600)
        response = self.client.get("/")
        self.assertEqual(len(response.context["posts"]), 12)
        newest = Post.objects.first()
        self.assertEqual(self.client.get(newest.large_url).status_code, 200)
