"""The header's unread count is cached per member, and is never out of date."""

from unittest import mock

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Like
from extagram.social.models import Follow, Notification
from extagram.testing.base import BaseTestCase


class UnreadCountCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.post = self.make_post(self.owner)
        self.client.force_login(self.owner)

    def unread(self):
        response = self.client.get("/notifications/unread/")
        self.assertEqual(response.status_code, 200)
        return response.json()["unread"]

    def test_a_second_read_comes_from_the_cache(self):
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 1)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.unread(), 1)
        self.assertFalse([q for q in captured if "social_notification" in q["sql"]])

    def test_a_new_notification_counts_at_once(self):
        self.assertEqual(self.unread(), 0)
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 1)
        Follow.follow(self.staff, self.owner)
        self.assertEqual(self.unread(), 2)

    def test_an_unlike_takes_its_notification_out_of_the_count_at_once(self):
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 1)
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 0)

    def test_opening_the_notifications_page_clears_the_count_at_once(self):
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 1)
        self.assertEqual(self.client.get("/notifications/").status_code, 200)
        self.assertEqual(self.unread(), 0)

    def test_a_deleted_post_takes_its_notifications_out_of_the_count_at_once(self):
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 1)
        self.post.delete()
        self.assertEqual(self.unread(), 0)

    def test_each_member_has_their_own_count(self):
        Like.toggle(self.post, self.stranger)
        self.assertEqual(self.unread(), 1)
        self.client.force_login(self.stranger)
        self.assertEqual(self.unread(), 0)

    def test_notifications_inserted_in_bulk_count_once_the_bulk_stamp_is_replaced(self):
        from extagram.social.models import notifications_changed

        self.assertEqual(self.unread(), 0)
        Notification.objects.bulk_create(
            [Notification(recipient=self.owner, actor=self.stranger, kind=Notification.FOLLOW)]
        )
        notifications_changed()
        self.assertEqual(self.unread(), 1)

    def test_the_header_shows_the_fresh_count(self):
        self.client.get("/explore/")
        Like.toggle(self.post, self.stranger)
        self.assertContains(self.client.get("/explore/"), '<span class="badge">1<')

    def test_home_explore_and_a_profile_read_their_first_value_and_the_count_together(self):
        Like.toggle(self.post, self.stranger)
        for path, ids_key in (
            ("/", "home:ids:"),
            ("/explore/", "explore:ids:"),
            (f"/u/{self.stranger.username}/", f"profile:numbers:{self.stranger.pk}"),
        ):
            self.client.get(path)  # the ids and the count cached
            with mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many:
                page = self.client.get(path)
            self.assertContains(page, '<span class="badge">1<span class="visually-hidden">')
            reads = [call.args[0] for call in get_many.call_args_list]
            with_count = [keys for keys in reads if f"notifications:unread:{self.owner.pk}" in keys]
            self.assertEqual(len(with_count), 1, reads)
            self.assertTrue(any(key.startswith(ids_key) for key in with_count[0]), reads)

    def test_home_and_explore_count_a_new_notification_at_once(self):
        self.client.get("/")
        Like.toggle(self.post, self.stranger)
        self.assertContains(self.client.get("/"), '<span class="badge">1<span')
        self.client.get("/explore/")
        Follow.follow(self.staff, self.owner)
        self.assertContains(self.client.get("/explore/"), '<span class="badge">2<span')
