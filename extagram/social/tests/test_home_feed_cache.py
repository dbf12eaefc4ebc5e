"""The home feed's first page reads its ids from the cache, and is never out of date."""

import re
from io import StringIO

from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import PHOTO_FIELDS, Post
from extagram.posts.signals import posts_added_in_bulk
from extagram.social.models import HOME_POSTS_STAMP_KEY, Follow
from extagram.testing.base import PASSWORD, BaseTestCase

# a statement reading post or followed-author ids only (home_post_ids)
_NAME = '[`"]'
IDS_READ = re.compile(
    rf"SELECT {_NAME}(posts_post|social_follow){_NAME}\.{_NAME}(id|followee_id){_NAME}"
    rf" AS {_NAME}(id|followee_id){_NAME} FROM"
)


@override_settings(FEED_PAGE_SIZE=3)
class HomeFeedCacheTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="bob", password=PASSWORD)
        Follow.follow(self.stranger, self.owner)

    def home_ids(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        return [post.pk for post in response.context["posts"]]

    def statements(self, path="/"):
        with CaptureQueriesContext(connection) as captured:
            self.client.get(path)
        return [query["sql"] for query in captured.captured_queries]

    def test_a_second_view_reads_the_ids_from_the_cache(self):
        followed = self.make_post(self.owner)
        first = self.statements()
        second = self.statements()

        # neither the ids (home_post_ids: the site's newest id, the window's, and when the
        # window holds less than a page, as on MariaDB whose ids go on from earlier tests,
        # the followed authors' and the member's own, and a second window before them if
        # the first held enough of the feed to say how far the rest lie), nor the post whose
        # card the first view rendered and cached, nor the unread count
        # (Notification.unread_count)
        ids_statements = [sql for sql in first if IDS_READ.match(sql)]
        self.assertIn(len(ids_statements), (2, 4, 5))
        self.assertEqual(len(second), len(first) - 2 - len(ids_statements))
        self.assertFalse([sql for sql in second if IDS_READ.match(sql)])
        self.assertEqual(self.home_ids(), [followed.pk])

    def test_a_new_post_by_someone_followed_shows_at_once(self):
        older = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [older.pk])
        newer = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [newer.pk, older.pk])

    def test_my_own_new_post_shows_at_once(self):
        followed = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [followed.pk])
        mine = self.make_post(self.stranger)
        self.assertEqual(self.home_ids(), [mine.pk, followed.pk])

    def test_a_stranger_posting_changes_nothing_shown(self):
        followed = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [followed.pk])
        self.make_post(self.staff)
        self.assertEqual(self.home_ids(), [followed.pk])

    def test_following_and_unfollowing_change_the_feed_at_once(self):
        theirs = self.make_post(self.staff)
        followed = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [followed.pk])
        self.client.post("/u/sam/follow/")
        self.assertEqual(self.home_ids(), [followed.pk, theirs.pk])
        self.client.post("/u/sam/unfollow/")
        self.assertEqual(self.home_ids(), [followed.pk])

    def test_someone_else_following_leaves_my_cached_feed_alone(self):
        self.make_post(self.owner)
        self.home_ids()
        Follow.follow(self.staff, self.owner)
        self.assertFalse([sql for sql in self.statements() if "social_follow" in sql])

    def test_a_deleted_post_leaves_the_feed_at_once(self):
        kept = self.make_post(self.owner)
        gone = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [gone.pk, kept.pk])
        gone.delete()
        self.assertEqual(self.home_ids(), [kept.pk])

    def test_a_post_removed_without_signals_is_not_shown_as_a_hole(self):
        kept = self.make_post(self.owner)
        gone = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [gone.pk, kept.pk])
        Post.objects.filter(pk=gone.pk)._raw_delete(connection.alias)
        self.assertEqual(self.home_ids(), [kept.pk])

    def test_the_next_page_and_whether_there_is_one_stay_right(self):
        posts = [self.make_post(self.owner) for _ in range(4)]
        self.home_ids()
        response = self.client.get("/")  # from the cache
        self.assertEqual(response.context["next_cursor"], posts[1].pk)
        older = self.client.get(f"/?before={posts[1].pk}")
        self.assertEqual([p.pk for p in older.context["posts"]], [posts[0].pk])

    def copy_without_signals(self, post):
        fields = {f: getattr(post, f) for f in (*PHOTO_FIELDS, "width", "height", "small_width")}
        (copy,) = Post.objects.bulk_create([Post(author=post.author, **fields)])
        return copy

    def test_posts_inserted_in_bulk_show_once_their_signal_is_sent(self):
        older = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [older.pk])
        newer = self.copy_without_signals(older)
        posts_added_in_bulk.send(sender=Post)
        self.assertEqual(self.home_ids(), [newer.pk, older.pk])

    def test_seed_posts_sends_the_bulk_signal(self):
        sent = []

        def record(sender, **kwargs):
            sent.append(sender)

        posts_added_in_bulk.connect(record)
        try:
            call_command("seed_posts", posts=5, users=1, photos=1, stdout=StringIO())
        finally:
            posts_added_in_bulk.disconnect(record)
        self.assertEqual(sent, [Post])

    def test_an_evicted_stamp_means_a_fresh_read_not_an_old_page(self):
        older = self.make_post(self.owner)
        self.assertEqual(self.home_ids(), [older.pk])
        cache.delete(HOME_POSTS_STAMP_KEY)  # evicted; the cached ids are still there
        newer = self.copy_without_signals(older)
        self.assertEqual(self.home_ids(), [newer.pk, older.pk])

    def test_the_stamp_is_replaced_again_when_the_transaction_commits(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.make_post(self.owner)
            during = cache.get(HOME_POSTS_STAMP_KEY)
        self.assertIsNotNone(during)
        self.assertNotEqual(cache.get(HOME_POSTS_STAMP_KEY), during)
