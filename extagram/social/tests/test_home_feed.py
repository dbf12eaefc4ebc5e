from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Comment, Like
from extagram.social.models import Follow
from extagram.testing.base import PASSWORD, BaseTestCase


@override_settings(FEED_PAGE_SIZE=3)
class HomeFeedTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="bob", password=PASSWORD)

    def ids(self, response):
        return [post.pk for post in response.context["posts"]]

    def test_it_shows_the_people_you_follow_and_yourself_not_strangers(self):
        Follow.follow(self.stranger, self.owner)
        followed = self.make_post(self.owner, caption="by alice")
        mine = self.make_post(self.stranger, caption="by bob")
        self.make_post(self.staff, caption="by sam")
        response = self.client.get("/")
        self.assertEqual(self.ids(response), [mine.pk, followed.pk])
        self.assertNotContains(response, "by sam")

    def test_it_pages_newest_first_across_pages(self):
        Follow.follow(self.stranger, self.owner)
        posts = []
        for i in range(7):
            posts.append(self.make_post(self.owner if i % 2 else self.stranger, caption=f"p{i}"))
            self.make_post(self.staff, caption=f"not followed {i}")
        first = self.client.get("/")
        self.assertEqual(self.ids(first), [p.pk for p in posts[6:3:-1]])
        second = self.client.get(f"/?before={posts[4].pk}")
        self.assertEqual(self.ids(second), [p.pk for p in posts[3:0:-1]])
        last = self.client.get(f"/?before={posts[1].pk}")
        self.assertEqual(self.ids(last), [posts[0].pk])
        self.assertNotContains(last, "Older posts")

    def test_it_keeps_the_like_and_comment_affordances(self):
        Follow.follow(self.stranger, self.owner)
        post = self.make_post(self.owner)
        Like.objects.create(post=post, user=self.stranger)
        response = self.client.get("/")
        self.assertContains(response, f'action="/p/{post.pk}/like/"')
        self.assertContains(response, 'aria-pressed="true"')
        self.assertContains(response, f'href="/p/{post.pk}/#comments"')

    def test_an_empty_home_suggests_accounts_and_points_to_explore(self):
        self.make_post(self.owner)
        response = self.client.get("/")
        self.assertContains(response, "Your home feed is empty")
        self.assertContains(response, 'href="/explore/"')
        self.assertContains(response, 'href="/u/alice/"')
        self.assertEqual([u.username for u in response.context["suggestions"]()], ["alice"])

    def test_suggestions_leave_out_people_already_followed(self):
        Follow.follow(self.stranger, self.owner)
        self.make_post(self.owner)
        self.make_post(self.staff)
        Follow.objects.all().delete()
        Follow.follow(self.stranger, self.owner)
        from extagram.social.views import suggested_accounts

        self.assertEqual([u.username for u in suggested_accounts(self.stranger)], ["sam"])

    def test_explore_shows_everyones_posts(self):
        self.make_post(self.owner, caption="by alice")
        self.make_post(self.staff, caption="by sam")
        response = self.client.get("/explore/")
        self.assertContains(response, "by alice")
        self.assertContains(response, "by sam")

    def test_signed_out_home_stays_the_public_feed(self):
        self.client.logout()
        self.make_post(self.owner, caption="public")
        self.assertContains(self.client.get("/"), "public")

    def test_an_invalid_cursor_is_a_400(self):
        self.assertEqual(self.client.get("/?before=abc").status_code, 400)

    def test_signed_in_home_is_not_cached_by_the_proxy(self):
        with override_settings(PROXY_CACHE_SECONDS=5):
            self.assertNotIn("X-Accel-Expires", self.client.get("/"))
            self.assertNotIn("X-Accel-Expires", self.client.get("/explore/"))


class HomeFeedQueryBoundTests(BaseTestCase):
    def count_queries(self, path):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(path)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_the_query_count_is_the_same_for_2_and_12_posts_and_any_number_of_follows(self):
        self.client.login(username="bob", password=PASSWORD)
        Follow.follow(self.stranger, self.owner)
        with override_settings(FEED_PAGE_SIZE=2):
            self.make_post(self.owner)
            self.make_post(self.owner)
            small = self.count_queries("/")
        User = get_user_model()
        for i in range(10):
            other = User.objects.create_user(f"member{i}")
            Follow.follow(self.stranger, other)
            post = self.make_post(other)
            Like.objects.create(post=post, user=self.stranger)
            Comment.objects.create(post=post, author=self.staff, body="nice @bob #tag")
        with override_settings(FEED_PAGE_SIZE=12):
            large = self.count_queries("/")
        self.assertEqual(small, large)
        # the member, the site's newest id and the window's ids (home_post_ids; when the
        # window holds less than a page, as on MariaDB whose ids go on from earlier tests, a
        # second window's, the followed authors' and the member's own too), the cards' rows
        # with the like marks, the posts not yet kept as cards, the unread count
        self.assertLessEqual(large, 9)


class FooterTests(BaseTestCase):
    def test_the_footer_calls_the_signed_in_front_page_home_and_the_public_one_feed(self):
        self.assertContains(self.client.get("/explore/"), '<a href="/">Feed</a>')
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get("/explore/")
        self.assertContains(page, '<a href="/">Home</a> · <a href="/accounts/settings/">')


class HomeFeedSeldomPostingFollowsTests(BaseTestCase):
    """home_post_ids reads a window of the newest posts, then, when the people a member
    follows seldom post, each followed author's newest posts from the author's index: its
    pages are the single statement's (home_posts().page_ids), only read in fewer rows."""

    def setUp(self):
        import random

        from extagram.posts.models import PHOTO_FIELDS, Post

        rng = random.Random(7)
        User = get_user_model()
        photo = self.make_post(self.staff)
        fields = {f: getattr(photo, f) for f in (*PHOTO_FIELDS, "width", "height", "small_width")}
        self.authors = User.objects.bulk_create(User(username=f"poster{n}") for n in range(12))
        everyone = [*self.authors, self.owner, self.stranger, self.staff]
        # 300 posts: the followed few seldom, the others often
        Post.objects.bulk_create(
            Post(author=rng.choice(everyone if rng.random() < 0.15 else [self.staff]), **fields)
            for _ in range(300)
        )
        for author in self.authors[:5]:
            Follow.follow(self.stranger, author)
        Follow.follow(self.stranger, self.owner)
        self.authors[3].is_active = False  # followed, closed: none of theirs is shown
        self.authors[3].save()

    def pages(self, size):
        """Every page of bob's home feed, from home_post_ids and from one statement."""
        from extagram.social.models import home_post_ids, home_posts

        read, single, cursor = [], [], None
        while True:
            ids = home_post_ids(self.stranger, cursor, size)
            read.append(ids)
            single.append(home_posts(self.stranger).page_ids(cursor, size))
            if len(ids) <= size:
                return read, single
            cursor = ids[size - 1]

    def test_every_page_is_the_single_statements_for_any_window(self):
        from unittest import mock

        for window in (6000, 40, 7, 1):
            for reach in (16_000, 50, 0):
                for size in (1, 3, 20):
                    with self.subTest(window=window, reach=reach, size=size):
                        with (
                            mock.patch("extagram.social.models.HOME_WINDOW", window),
                            mock.patch("extagram.social.models.HOME_REACH", reach),
                        ):
                            read, single = self.pages(size)
                        self.assertEqual(read, single)
                        self.assertGreater(sum(map(len, read)), size)

    def test_a_feed_spread_thin_is_read_in_windows_sized_from_its_share(self):
        # on seed_social's graph (20,000 members, 100,000 posts) a member following ~150
        # has about 1 post in 100 of the site's: a window short of a page, where looking up
        # each author took 5-17 statements (docs/performance.md, "A home feed of seldom
        # posting follows")
        from unittest import mock

        from extagram.posts.models import PHOTO_FIELDS, Post
        from extagram.social.models import home_post_ids, home_posts

        photo = Post.objects.first()
        fields = {f: getattr(photo, f) for f in (*PHOTO_FIELDS, "width", "height", "small_width")}
        # the 100 newest posts: one in 10 by someone bob follows
        Post.objects.bulk_create(
            Post(author=self.authors[0] if n % 10 == 0 else self.staff, **fields)
            for n in range(100)
        )
        single = home_posts(self.stranger).page_ids(None, 5)
        for reach, authors_read in ((16_000, 0), (50, 1)):
            with (
                mock.patch("extagram.social.models.HOME_WINDOW", 20),
                mock.patch("extagram.social.models.HOME_REACH", reach),
                CaptureQueriesContext(connection) as statements,
            ):
                self.assertEqual(home_post_ids(self.stranger, None, 5), single)
            # 2 of 20 in the first window: the next is 2 x 4 x 10 = 80 ids, which holds 8
            sql = [s["sql"] for s in statements]
            on_follows = [s for s in sql if "social_follow" in s.split("FROM")[1]]
            self.assertEqual(len(on_follows), authors_read, sql)
            if not authors_read:
                self.assertEqual(len(sql), 3, sql)  # the newest id, the two windows

    def test_the_feed_below_a_sparse_window_is_read_from_the_authors_posts(self):
        from unittest import mock

        from extagram.social.models import home_post_ids

        window = mock.patch("extagram.social.models.HOME_WINDOW", 5)
        no_more_windows = mock.patch("extagram.social.models.HOME_REACH", 0)
        with window, no_more_windows, CaptureQueriesContext(connection) as statements:
            home_post_ids(self.stranger, None, 3)
        # one statement on the follows, each followed author's newest post looked up on
        # its own (LIMIT 1), then one per author found
        on_follows = [s["sql"] for s in statements if "social_follow" in s["sql"].split("FROM")[1]]
        self.assertEqual(len(on_follows), 1, on_follows)
        self.assertIn("LIMIT 1)", on_follows[0].upper())
