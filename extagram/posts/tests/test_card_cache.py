"""Post cards are cached for a day (extagram/posts/cards.py) and are never stale: the
relative time is rendered per request, and everything else a card shows is in its key."""

from datetime import timedelta
from unittest import mock

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation

from extagram.posts.models import Comment, Post
from extagram.testing.base import BaseTestCase


class CardCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.post = self.make_post(caption="Sunset at #Barceloneta")

    def card_renders(self):
        """How many cards the next feed page renders from its template."""
        with mock.patch("extagram.posts.cards.render_to_string", wraps=render_to_string) as spy:
            response = self.client.get("/explore/")
        self.assertEqual(response.status_code, 200)
        return sum(call.args[0] == "posts/_post_card.html" for call in spy.call_args_list)

    def test_a_cached_card_shows_its_time_as_of_each_request(self):
        self.client.force_login(self.stranger)
        self.assertContains(self.client.get("/explore/"), "now")
        Post.objects.filter(pk=self.post.pk).update(created_at=timezone.now() - timedelta(hours=3))
        self.assertEqual(self.card_renders(), 0)
        response = self.client.get("/explore/")
        self.assertContains(response, "3\xa0hours ago")
        self.assertNotContains(response, "<!--extagram:")

    def test_a_card_is_rendered_once_for_many_visitors(self):
        self.client.force_login(self.owner)
        self.assertEqual(self.card_renders(), 1)
        self.client.force_login(self.stranger)
        self.assertEqual(self.card_renders(), 0)
        self.client.logout()
        self.assertEqual(self.card_renders(), 0)

    def test_a_new_comment_shows_in_the_cached_card_at_once(self):
        self.client.force_login(self.stranger)
        self.assertContains(self.client.get("/explore/"), "0 comments")
        Comment.add(self.post, self.stranger, "Lovely")
        self.assertContains(self.client.get("/explore/"), "1 comment")

    def test_an_edited_caption_shows_in_the_cached_card_at_once(self):
        self.client.force_login(self.owner)
        self.client.get("/explore/")
        response = self.client.post(
            f"/p/{self.post.pk}/edit/", {"caption": "Sunrise at #Bogatell", "alt_text": ""}
        )
        self.assertEqual(response.status_code, 302)
        response = self.client.get("/explore/")
        self.assertContains(response, "/tags/bogatell/")
        self.assertNotContains(response, "Barceloneta")

    def test_a_new_handle_shows_in_the_cached_card_at_once(self):
        self.client.force_login(self.stranger)
        self.client.get("/explore/")
        self.owner.username = "alicia"
        self.owner.save()
        self.assertContains(self.client.get("/explore/"), 'href="/u/alicia/"')

    def test_each_language_has_its_own_card(self):
        self.client.force_login(self.stranger)
        self.client.get("/explore/")
        with translation.override("es"):
            response = self.client.get("/explore/", headers={"accept-language": "es"})
        self.assertContains(response, "0 comentarios")
        self.assertContains(response, "ahora")
