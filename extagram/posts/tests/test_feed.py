from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Comment, Like
from extagram.testing.base import PASSWORD, BaseTestCase


@override_settings(FEED_PAGE_SIZE=3)
class FeedTests(BaseTestCase):
    def test_anonymous_visitors_can_browse_the_feed(self):
        post = self.make_post(caption="Hello world")
        response = self.client.get("/")
        self.assertContains(response, "Hello world")
        self.assertContains(response, post.large_url)
        self.assertContains(response, "Sign up")

    def test_it_shows_the_newest_post_first(self):
        self.make_post(caption="the older post")
        self.make_post(caption="the newer post")
        content = self.client.get("/").content.decode()
        self.assertLess(content.index("the newer post"), content.index("the older post"))

    def test_it_shows_author_and_relative_time(self):
        self.make_post(caption="caption")
        response = self.client.get("/")
        self.assertContains(response, 'href="/u/alice/"')
        self.assertContains(response, "now")

    def test_it_pages_with_a_cursor_and_an_older_posts_link(self):
        posts = [self.make_post(caption=f"post-{i}") for i in range(7)]
        first = self.client.get("/")
        self.assertEqual([p.pk for p in first.context["posts"]], [p.pk for p in posts[6:3:-1]])
        self.assertContains(first, f'href="?before={posts[4].pk}"')

        second = self.client.get(f"/?before={posts[4].pk}")
        self.assertEqual([p.pk for p in second.context["posts"]], [p.pk for p in posts[3:0:-1]])

        last = self.client.get(f"/?before={posts[1].pk}")
        self.assertEqual([p.pk for p in last.context["posts"]], [posts[0].pk])
        self.assertNotContains(last, "Older posts")

    def test_a_page_that_is_exactly_full_has_no_older_link(self):
        for i in range(3):
            self.make_post(caption=f"post-{i}")
        response = self.client.get("/")
        self.assertEqual(len(response.context["posts"]), 3)
        self.assertNotContains(response, "Older posts")

    def test_a_cursor_past_the_oldest_post_gives_an_empty_page(self):
        post = self.make_post()
        response = self.client.get(f"/?before={post.pk}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(list(response.context["posts"]), [])

    def test_a_page_past_the_oldest_post_says_so_on_every_paged_feed(self):
        post = self.make_post(caption="#sun")
        for signed_in in (False, True):
            if signed_in:
                self.client.force_login(self.owner)  # "/" is the home feed then
            for path in ("/", "/explore/", "/tags/sun/", "/u/alice/"):
                past = self.client.get(f"{path}?before={post.pk}")
                self.assertContains(past, "No older posts.", msg_prefix=path)
                self.assertNotContains(past, "No posts", msg_prefix=path)
                self.assertNotContains(self.client.get(path), "No older posts.", msg_prefix=path)

    def test_an_invalid_cursor_is_a_clear_400(self):
        # a superscript two passes str.isdigit() but not int(); other scripts' digits
        # pass both (Arabic-Indic three, a full-width one): page links are ASCII digits only
        for bad in ("abc", "-1", "1e9", "9" * 40, "", "\u00b2", "\u0663", "\uff11"):
            response = self.client.get("/", {"before": bad})
            self.assertEqual(response.status_code, 400, bad)

    def test_the_fragment_has_the_posts_without_the_page_around_them(self):
        self.make_post(caption="in the fragment")
        response = self.client.get("/?fragment=1")
        self.assertContains(response, "in the fragment")
        self.assertNotContains(response, "<html")

    def test_it_shows_which_posts_the_visitor_liked(self):
        liked, other = self.make_post(), self.make_post()
        Like.objects.create(post=liked, user=self.stranger)
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.get("/explore/")  # signed in, "/" is bob's home feed
        marks = {p.pk: p.liked for p in response.context["posts"]}
        self.assertEqual(marks, {liked.pk: True, other.pk: False})
        self.assertContains(response, 'aria-pressed="true"', count=1)


class FeedQueryBoundTests(BaseTestCase):
    def count_queries(self, path):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(path)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_the_number_of_queries_does_not_grow_with_page_size_likes_or_comments(self):
        self.client.login(username="bob", password=PASSWORD)
        with override_settings(FEED_PAGE_SIZE=2):
            self.make_post()
            self.make_post()
            cache.clear()
            small = self.count_queries("/explore/")  # everyone's posts, signed in

        for _ in range(10):
            post = self.make_post()
            Like.objects.create(post=post, user=self.stranger)
            Like.objects.create(post=post, user=self.staff)
            for i in range(3):
                Comment.objects.create(post=post, author=self.staff, body=f"c{i}")
        cache.clear()
        with override_settings(FEED_PAGE_SIZE=12):
            large = self.count_queries("/explore/")
        self.assertEqual(small, large)
        # session, user, the page's ids (cached from the next view on), the page's rows with
        # the like marks, the posts whose cards are not cached yet, unread notifications
        self.assertLessEqual(large, 6)

    def test_an_anonymous_feed_page_takes_two_queries_once_its_cards_are_cached(self):
        for _ in range(5):
            self.make_post()
        # the page's ids, the page's rows (posts.cards.CardRow), the posts in full to render
        # their cards
        self.assertEqual(self.count_queries("/"), 3)
        # the ids and the rows: the cards come from the cache
        self.assertEqual(self.count_queries("/"), 2)

    def test_a_signed_in_explore_page_reads_only_the_session_the_user_and_the_rows_once_cached(
        self,
    ):
        self.client.login(username="bob", password=PASSWORD)
        for _ in range(5):
            self.make_post()
        self.count_queries("/explore/")
        # the session (not with Redis: cached_db keeps it in the cache), the user, the page's
        # rows with the like marks; the first page's ids, the cards and the unread count
        # come from the cache
        session = 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
        self.assertEqual(self.count_queries("/explore/"), session + 2)


class SignedOutFeedTests(BaseTestCase):
    def test_the_signed_out_feed_sets_no_cookie_and_holds_no_csrf_token(self):
        self.make_post()
        response = self.client.get("/")
        self.assertNotIn("csrfmiddlewaretoken", response.content.decode())
        self.assertEqual(response.cookies, {})
        self.assertContains(response, "/accounts/login/?next=/p/")
