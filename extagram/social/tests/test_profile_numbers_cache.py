"""A profile's numbers (posts, likes received, followers, following) are cached, and are
never out of date: a post added, deleted or moved to another member, a like given or
taken back, a follow, and posts or likes inserted in bulk show at once on every profile
they touch. Whether the visitor follows the owner is each visitor's own."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Like, Post
from extagram.posts.signals import posts_added_in_bulk
from extagram.social.models import PROFILE_NUMBERS_STAMP_KEY, Follow, profile_owner
from extagram.testing.base import PASSWORD, BaseTestCase


def numbers(user, visitor=None):
    owner = profile_owner(user.username, visitor or AnonymousUser())
    return {
        "posts": owner.post_total,
        "likes": owner.like_total,
        "followers": owner.followers,
        "following": owner.following,
        "follows_owner": owner.follows_owner,
    }


class ProfileNumbersCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.first, self.second = self.make_post(self.owner), self.make_post(self.owner)
        Like.toggle(self.first, self.stranger)
        Like.toggle(self.second, self.stranger)
        Like.toggle(self.second, self.staff)
        Follow.follow(self.stranger, self.owner)

    def test_a_second_view_reads_the_numbers_from_the_cache(self):
        expected = {"posts": 2, "likes": 3, "followers": 1, "following": 0, "follows_owner": False}
        self.assertEqual(numbers(self.owner), expected)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(numbers(self.owner), expected)
        self.assertEqual(len(captured), 1)  # the member (active_member), no count or sum
        self.assertNotIn("SUM(", captured[0]["sql"])

    def test_a_like_given_or_taken_back_shows_at_once(self):
        numbers(self.owner)
        Like.toggle(self.first, self.staff)
        self.assertEqual(numbers(self.owner)["likes"], 4)
        Like.toggle(self.second, self.stranger)
        self.assertEqual(numbers(self.owner)["likes"], 3)

    def test_a_post_added_or_deleted_shows_at_once(self):
        numbers(self.owner)
        third = self.make_post(self.owner)
        self.assertEqual(numbers(self.owner)["posts"], 3)
        third.delete()  # no likes: only the post's own signal says so
        self.assertEqual(numbers(self.owner)["posts"], 2)
        self.second.delete()
        self.assertEqual((numbers(self.owner)["posts"], numbers(self.owner)["likes"]), (1, 1))

    def test_a_post_moved_to_another_member_shows_at_once_on_both(self):
        numbers(self.owner), numbers(self.staff)
        moved = Post.objects.get(pk=self.second.pk)  # as the admin reads it, counters and all
        moved.author = self.staff  # the admin can change a post's author
        moved.save()
        self.assertEqual((numbers(self.owner)["posts"], numbers(self.owner)["likes"]), (1, 1))
        # its two likes go with it, one of them the new author's own, not received
        self.assertEqual((numbers(self.staff)["posts"], numbers(self.staff)["likes"]), (1, 1))

    def test_posts_and_likes_inserted_in_bulk_show_at_once(self):
        numbers(self.owner)
        Post.objects.filter(pk=self.first.pk).update(like_count=40)  # as seed_posts recounts
        posts_added_in_bulk.send(sender=Post)
        self.assertEqual(numbers(self.owner)["likes"], 42)

    def test_a_follow_shows_at_once(self):
        numbers(self.owner)
        Follow.follow(self.staff, self.owner)
        self.assertEqual(numbers(self.owner)["followers"], 2)
        self.assertEqual(numbers(self.staff)["following"], 1)

    def test_whether_the_visitor_follows_is_each_visitors_own(self):
        self.assertIs(numbers(self.owner, self.stranger)["follows_owner"], True)
        self.assertIs(numbers(self.owner, self.staff)["follows_owner"], False)
        self.assertIs(numbers(self.owner, self.owner)["follows_owner"], False)
        self.assertIs(numbers(self.owner)["follows_owner"], False)

    def test_the_profile_page_shows_a_new_like_at_once(self):
        carol = get_user_model().objects.create_user("carol", password=PASSWORD)
        self.client.force_login(carol)
        self.assertContains(self.client.get("/u/alice/"), "<strong>3</strong> likes received")
        self.client.post(f"/p/{self.first.pk}/like/")
        self.assertContains(self.client.get("/u/alice/"), "<strong>4</strong> likes received")

    def test_an_edit_keeps_every_members_cached_numbers(self):
        numbers(self.owner)
        stamp = cache.get(PROFILE_NUMBERS_STAMP_KEY)
        self.client.force_login(self.owner)
        edit = {"caption": "a new caption", "alt_text": "a dog"}
        self.assertEqual(self.client.post(f"/p/{self.first.pk}/edit/", edit).status_code, 302)
        self.assertEqual(cache.get(PROFILE_NUMBERS_STAMP_KEY), stamp)

    def test_a_deleted_account_leaves_the_likes_it_gave_at_once(self):
        numbers(self.owner)
        self.stranger.delete()
        self.assertEqual(numbers(self.owner)["likes"], 1)

    def test_a_post_deleted_with_its_likes_reads_no_author_per_like(self):
        for member in (self.owner, self.staff):
            Like.toggle(self.first, member)
        with CaptureQueriesContext(connection) as captured:
            Post.objects.get(pk=self.first.pk).delete()
        author_read = 'SELECT "posts_post"."author_id"'  # _post_author_id's statement
        sql = [q["sql"].replace("`", '"') for q in captured]  # MariaDB quotes with backticks
        self.assertEqual([q for q in sql if q.startswith(author_read)], [])
        self.assertEqual(numbers(self.owner)["likes"], 2)

    def test_seed_posts_likes_show_at_once(self):
        call_command("seed_posts", posts=5, users=3, photos=1, stdout=StringIO())
        # bench000 authors each run's photo post (its own signal); the others' posts get
        # the second run's likes, which only seed_posts' bulk signal announces
        others = get_user_model().objects.filter(username__in=["bench001", "bench002"])
        before = sum(numbers(member)["likes"] for member in others)
        call_command("seed_posts", posts=5, users=3, photos=1, likes_per_post=2, stdout=StringIO())
        self.assertGreater(sum(numbers(member)["likes"] for member in others), before)
