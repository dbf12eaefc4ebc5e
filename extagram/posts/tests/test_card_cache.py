"""Post cards are cached for a day (extagram/posts/cards.py) and are never stale: the
relative time is rendered per request, and everything else a card shows is in its key."""

from datetime import timedelta
from unittest import mock

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation

from extagram.posts.cards import CARD_COPIES, card_key
from extagram.posts.models import Comment, Like, Post
from extagram.testing.base import BaseTestCase


class CardCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        CARD_COPIES.clear()
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

    def card_reads(self):
        """The card keys the next feed page asks the shared cache for."""
        with mock.patch.object(cache, "get_many", wraps=cache.get_many) as spy:
            self.assertEqual(self.client.get("/explore/").status_code, 200)
        return [key for call in spy.call_args_list for key in call.args[0] if "card:" in key]

    def test_a_page_whose_cards_this_process_has_asks_the_cache_for_none(self):
        self.make_post()
        self.client.force_login(self.stranger)
        self.assertEqual(len(self.card_reads()), 2)  # rendered, kept here and in the cache
        self.client.force_login(self.staff)
        self.assertEqual(self.card_reads(), [])

    def test_cards_another_process_rendered_are_read_from_the_shared_cache(self):
        self.client.force_login(self.stranger)
        self.client.get("/explore/")
        CARD_COPIES.clear()  # as a process that has not shown the page yet
        self.assertEqual(self.card_renders(), 0)
        self.assertEqual(self.card_reads(), [])  # and copied here by that read

    def test_a_card_this_process_has_is_not_shown_once_its_post_changed(self):
        self.client.force_login(self.stranger)
        self.client.get("/explore/")
        Comment.add(self.post, self.staff, "Nice")
        cache.clear()  # the shared copy gone too: only this process's copy is left
        response = self.client.get("/explore/")
        self.assertContains(response, "1 comment")
        self.assertNotContains(response, "0 comments")

    def test_this_process_keeps_a_bounded_number_of_cards(self):
        for start in range(0, CARD_COPIES.kept + 100, 50):
            CARD_COPIES.update(
                {f"card:test:{n}": "<article></article>" for n in range(start, start + 50)}
            )
            self.assertLessEqual(len(CARD_COPIES), CARD_COPIES.kept)
        self.assertEqual(len(CARD_COPIES.get_many([f"card:test:{start + 49}", "card:none"])), 1)
        CARD_COPIES.update({f"card:all:{n}": "<article></article>" for n in range(3000)})
        self.assertEqual(len(CARD_COPIES), CARD_COPIES.kept)  # more than it keeps, at once

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

    def test_a_new_display_name_and_picture_show_in_the_cached_card_at_once(self):
        self.client.force_login(self.stranger)
        self.client.get("/explore/")
        profile = self.owner.profile
        profile.display_name = "Alícia Puig"
        profile.save()
        self.assertContains(self.client.get("/explore/"), "Alícia Puig")

    def test_a_like_shows_its_new_count_to_everyone_on_the_cached_page_at_once(self):
        self.client.force_login(self.stranger)
        self.assertContains(self.client.get("/explore/"), "0 likes")
        Like.toggle(self.post, self.staff)
        self.assertEqual(self.card_renders(), 0)
        self.assertContains(self.client.get("/explore/"), "1 like<")
        self.client.logout()
        self.assertContains(self.client.get("/explore/"), "1 like<")

    def test_each_member_sees_their_own_like_marks_on_the_same_cached_cards(self):
        other = self.make_post()
        Like.toggle(self.post, self.stranger)
        Like.toggle(other, self.staff)
        pages = {}
        for user in (self.stranger, self.staff, self.owner):
            self.client.force_login(user)
            response = self.client.get("/explore/")
            pages[user.username] = {post.pk for post in response.context["posts"] if post.liked}
        self.assertEqual(pages, {"bob": {self.post.pk}, "sam": {other.pk}, "alice": set()})
        self.assertEqual(self.card_renders(), 0)

    def test_a_card_row_says_what_the_post_says(self):
        from extagram.posts.cards import CardRow

        Like.toggle(self.post, self.stranger)
        Comment.add(self.post, self.staff, "Nice")
        post = Post.objects.select_related("author__profile").get(pk=self.post.pk)
        (row,) = CardRow.read(self.stranger, [post.pk, 10**12])
        self.assertEqual(
            (row.pk, row.like_count, row.comment_count, row.edited_at, row.created_at),
            (post.pk, 1, 1, post.edited_at, post.created_at),
        )
        self.assertEqual((row.username, row.liked), ("alice", True))
        self.assertFalse(CardRow.read(self.staff, [post.pk])[0].liked)
        self.assertEqual(row.get_absolute_url(), post.get_absolute_url())
        self.assertEqual(row.key(False), card_key(post, False))
