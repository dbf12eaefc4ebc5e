"""Explore's first page reads its ids from the cache, and is never out of date."""

import re

from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import PHOTO_FIELDS, Post
from extagram.social.models import HOME_POSTS_STAMP_KEY
from extagram.testing.base import BaseTestCase

# The first page's ids: the newest shown posts (PostQuerySet.page_ids), any quoting
IDS_STATEMENT = re.compile(
    r"FROM .posts_post. WHERE .posts_post.\..author_is_active.( = \S+)? ORDER BY "
)


@override_settings(FEED_PAGE_SIZE=3)
class ExploreCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.client.force_login(self.stranger)

    def explore_ids(self, path="/explore/"):
        response = self.client.get(path)
        self.assertEqual(response.status_code, 200)
        return [post.pk for post in response.context["posts"]]

    def ids_statements(self):
        with CaptureQueriesContext(connection) as captured:
            self.client.get("/explore/")
        return [q["sql"] for q in captured.captured_queries if IDS_STATEMENT.search(q["sql"])]

    def test_a_second_view_reads_the_ids_from_the_cache(self):
        self.make_post()
        self.assertEqual(len(self.ids_statements()), 1)
        self.assertEqual(self.ids_statements(), [])

    def test_a_new_post_shows_at_once(self):
        older = self.make_post()
        self.assertEqual(self.explore_ids(), [older.pk])
        newer = self.make_post(self.staff)
        self.assertEqual(self.explore_ids(), [newer.pk, older.pk])

    def test_a_deleted_post_leaves_at_once(self):
        kept, gone = self.make_post(), self.make_post()
        self.assertEqual(self.explore_ids(), [gone.pk, kept.pk])
        gone.delete()
        self.assertEqual(self.explore_ids(), [kept.pk])

    def test_a_post_removed_without_signals_leaves_no_hole(self):
        posts = [self.make_post() for _ in range(4)]
        self.assertEqual(self.explore_ids(), [p.pk for p in posts[:0:-1]])
        Post.objects.filter(pk=posts[3].pk)._raw_delete(connection.alias)
        self.assertEqual(self.explore_ids(), [p.pk for p in posts[2::-1]])

    def test_an_evicted_stamp_means_a_fresh_read(self):
        older = self.make_post()
        self.assertEqual(self.explore_ids(), [older.pk])
        cache.delete(HOME_POSTS_STAMP_KEY)
        fields = {f: getattr(older, f) for f in (*PHOTO_FIELDS, "width", "height", "small_width")}
        (newer,) = Post.objects.bulk_create([Post(author=self.owner, **fields)])  # no signal
        self.assertEqual(self.explore_ids(), [newer.pk, older.pk])

    def test_the_older_pages_and_the_pager_stay_right(self):
        posts = [self.make_post() for _ in range(4)]
        self.explore_ids()
        response = self.client.get("/explore/")  # ids from the cache
        self.assertEqual(response.context["next_cursor"], posts[1].pk)
        self.assertEqual(self.explore_ids(f"/explore/?before={posts[1].pk}"), [posts[0].pk])
