"""The numbers a profile page shows (social.models.profile_owner, one statement compiled
once) are what plain counts give: posts, likes received, followers and following without
deactivated accounts (gone's like is not received), and whether the visitor follows the
owner."""

from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.accounts.models import NoSuchMember, active_member
from extagram.posts.models import Like
from extagram.social import models
from extagram.social.models import Follow, profile_owner
from extagram.testing.base import PASSWORD, BaseTestCase


class ProfileNumbersTests(BaseTestCase):
    def setUp(self):
        User = get_user_model()
        self.carol = User.objects.create_user("carol", password=PASSWORD)
        self.gone = User.objects.create_user("gone", password=PASSWORD)
        self.posts = [self.make_post(self.owner) for _ in range(3)]
        for liker in (self.stranger, self.carol, self.gone):
            Like.toggle(self.posts[0], liker)
        Like.toggle(self.posts[2], self.carol)
        for follower in (self.stranger, self.carol, self.gone):
            Follow.follow(follower, self.owner)
        Follow.follow(self.owner, self.carol)
        Follow.follow(self.owner, self.gone)
        self.gone.is_active = False
        self.gone.save()

    def numbers(self, handle, visitor):
        owner = profile_owner(handle, visitor)
        fields = ("post_total", "like_total", "followers", "following", "follows_owner")
        return {field: getattr(owner, field) for field in fields}

    def test_they_are_the_plain_counts(self):
        expected = {"post_total": 3, "like_total": 3, "followers": 2, "following": 1}
        self.assertEqual(Follow.counts(self.owner), {"followers": 2, "following": 1})
        for visitor, follows in ((self.stranger, True), (self.staff, False)):
            with self.subTest(visitor=visitor):
                numbers = self.numbers("alice", visitor)
                self.assertEqual(numbers, {**expected, "follows_owner": follows})

    def test_the_likes_one_gives_ones_own_posts_are_not_received(self):
        Like.toggle(self.posts[1], self.owner)
        Like.toggle(self.posts[0], self.owner)
        self.assertEqual(self.numbers("alice", self.stranger)["like_total"], 3)
        # nor another's like of one's own posts taken off
        self.assertEqual(self.numbers("carol", self.stranger)["like_total"], 0)

    def test_signed_out_or_on_ones_own_page_nobody_follows(self):
        self.assertFalse(self.numbers("alice", AnonymousUser())["follows_owner"])
        self.assertFalse(self.numbers("alice", self.owner)["follows_owner"])

    def test_a_member_with_nothing_has_zeros(self):
        numbers = self.numbers("sam", self.owner)
        self.assertEqual(
            numbers,
            {
                "post_total": 0,
                "like_total": 0,
                "followers": 0,
                "following": 0,
                "follows_owner": False,
            },
        )

    def test_each_visitor_and_owner_gets_their_own_numbers_from_the_compiled_statement(self):
        # the statement is compiled once (per thread): later calls must use their own ids
        self.numbers("alice", self.stranger)
        self.assertEqual(self.numbers("carol", self.owner)["followers"], 1)
        self.assertTrue(self.numbers("carol", self.owner)["follows_owner"])
        self.assertFalse(self.numbers("carol", self.stranger)["follows_owner"])

    def test_a_deactivated_member_has_no_profile(self):
        with self.assertRaises(NoSuchMember):
            profile_owner("gone", self.owner)

    def test_a_member_whose_account_is_deleted_while_their_page_is_read_is_not_found(self):
        # the account closes between reading the member and reading their numbers
        def then_deleted(handle):
            owner = active_member(handle)
            get_user_model().objects.filter(pk=owner.pk).delete()
            return owner

        with mock.patch.object(models, "active_member", then_deleted):
            self.assertEqual(self.client.get("/u/carol/").status_code, 404)

    def test_an_account_deleted_since_it_was_read_follows_and_is_followed_by_nobody(self):
        get_user_model().objects.filter(pk=self.carol.pk).delete()
        self.assertEqual(Follow.counts(self.carol), {"followers": 0, "following": 0})

    def test_it_takes_two_statements(self):
        self.numbers("alice", self.stranger)
        with CaptureQueriesContext(connection) as queries:
            self.numbers("alice", self.stranger)
        self.assertEqual(len(queries), 2)

    def test_the_page_shows_them(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.get("/u/alice/")
        for text in (
            "<strong>3</strong> posts",
            "<strong>3</strong> likes received",
            "<strong>1</strong> following",
            'aria-pressed="true"',
        ):
            self.assertContains(response, text, html=False)

    def test_the_follow_counts_read_the_follows_alone(self):
        # joined to the members, a count of 19,999 followers took 396-436 ms on MariaDB
        # (docs/performance.md, "Follow counts from the follows' index")
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            Follow.counts(self.owner)
        (statement,) = [q["sql"] for q in queries if "social_follow" in q["sql"]]
        follow_counts = statement.split("social_follow", 1)[1]
        self.assertNotIn("JOIN", follow_counts)
        self.assertIn("follower_is_active", follow_counts)
        self.assertIn("followee_is_active", follow_counts)

    def test_a_follow_made_as_its_member_is_deactivated_is_not_counted(self):
        # the view read carol as active; staff deactivate her before the follow is saved
        User = get_user_model()
        read_before = User.objects.get(pk=self.carol.pk)
        closing = User.objects.get(pk=self.carol.pk)
        closing.is_active = False
        closing.save()
        Follow.follow(self.stranger, read_before)
        self.assertEqual(Follow.counts(self.stranger)["following"], 1)  # alice alone
        follow = Follow.objects.get(follower=self.stranger, followee=self.carol)
        self.assertEqual((follow.follower_is_active, follow.followee_is_active), (True, False))
        closing.is_active = True
        closing.save()
        self.assertEqual(Follow.counts(self.stranger)["following"], 2)
        self.assertEqual(Follow.counts(self.owner), {"followers": 2, "following": 1})

    def test_the_migration_flags_the_follows_of_and_by_deactivated_members(self):
        from importlib import import_module

        from django.apps import apps

        Follow.objects.update(follower_is_active=True, followee_is_active=True)  # as added
        migration = import_module("extagram.social.migrations.0008_follow_counts_from_the_index")
        migration.copy_the_members_activity(apps, None)
        flagged = Follow.objects.filter(follower_is_active=False) | Follow.objects.filter(
            followee_is_active=False
        )
        self.assertEqual(
            set(flagged.values_list("follower__username", "followee__username")),
            {("gone", "alice"), ("alice", "gone")},
        )
        self.assertEqual(Follow.counts(self.owner), {"followers": 2, "following": 1})
