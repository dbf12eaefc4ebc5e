"""A member's follow counts (Follow.counts, on their profile page) are cached, and are
never out of date: a follow, an unfollow, an account deactivated, reactivated or deleted
shows at once on every profile it touches."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.social.models import PROFILE_NUMBERS_STAMP_KEY, Follow
from extagram.testing.base import PASSWORD, BaseTestCase


class FollowCountsCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.carol = get_user_model().objects.create_user("carol", password=PASSWORD)
        Follow.follow(self.stranger, self.owner)
        Follow.follow(self.carol, self.owner)
        Follow.follow(self.owner, self.carol)

    def counts(self, user):
        return Follow.counts(user)

    def test_a_second_read_comes_from_the_cache(self):
        self.assertEqual(self.counts(self.owner), {"followers": 2, "following": 1})
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.counts(self.owner), {"followers": 2, "following": 1})
        self.assertEqual(len(captured), 0)

    def test_a_follow_and_an_unfollow_show_at_once_on_both_members(self):
        self.counts(self.owner), self.counts(self.staff)
        Follow.follow(self.staff, self.owner)
        self.assertEqual(self.counts(self.owner)["followers"], 3)
        self.assertEqual(self.counts(self.staff)["following"], 1)
        Follow.unfollow(self.stranger, self.owner)
        self.assertEqual(self.counts(self.owner)["followers"], 2)
        self.assertEqual(self.counts(self.stranger)["following"], 0)

    def test_a_deactivated_account_leaves_the_counts_at_once_and_rejoins_them(self):
        self.assertEqual(self.counts(self.owner), {"followers": 2, "following": 1})
        self.carol.is_active = False
        self.carol.save(update_fields=["is_active"])  # as the admin's action saves it
        self.assertEqual(self.counts(self.owner), {"followers": 1, "following": 0})
        self.carol.is_active = True
        self.carol.save()
        self.assertEqual(self.counts(self.owner), {"followers": 2, "following": 1})

    def test_a_deleted_account_leaves_the_counts_at_once(self):
        self.counts(self.owner)
        self.carol.delete()
        self.assertEqual(self.counts(self.owner), {"followers": 1, "following": 0})

    def test_a_log_in_or_a_new_account_keeps_everyones_cached_counts(self):
        self.counts(self.owner)
        stamp = cache.get(PROFILE_NUMBERS_STAMP_KEY)
        self.assertIsNotNone(stamp)
        self.client.login(username="bob", password=PASSWORD)  # saves last_login only
        get_user_model().objects.create_user("dave", password=PASSWORD)
        self.assertEqual(cache.get(PROFILE_NUMBERS_STAMP_KEY), stamp)

    def test_a_follow_moved_to_another_member_shows_at_once_on_both(self):
        # the admin can change a follow's followee in place
        self.assertEqual(self.counts(self.owner)["followers"], 2)
        self.assertEqual(self.counts(self.staff)["followers"], 0)
        follow = Follow.objects.get(follower=self.stranger, followee=self.owner)
        follow.followee = self.staff
        follow.save()
        self.assertEqual(self.counts(self.owner)["followers"], 1)
        self.assertEqual(self.counts(self.staff)["followers"], 1)

    def test_the_profile_page_shows_a_new_follower_at_once(self):
        self.client.force_login(self.staff)
        self.assertContains(self.client.get("/u/alice/"), "<strong>2</strong> followers")
        self.client.post("/u/alice/follow/")
        self.assertContains(self.client.get("/u/alice/"), "<strong>3</strong> followers")
