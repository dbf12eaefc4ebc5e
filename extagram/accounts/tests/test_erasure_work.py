"""Deleting an account or a post does work that does not grow with its likes, comments,
follows and notifications, and every count it touches is right at once."""

from unittest import mock

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.accounts import erasure
from extagram.posts.models import Comment, Like, Post
from extagram.social.models import Follow, Notification, home_page_ids
from extagram.testing.base import BaseTestCase

User = get_user_model()


class ErasureWorkTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.theirs = self.make_post(author=self.stranger, caption="theirs")

    def active_account(self, name, others):
        """A member with two posts that `others` members (new) each like, comment on and
        follow; the member follows each of them back, likes bob's post and comments on it
        once per other member."""
        member = User.objects.create_user(name)
        posts = [self.make_post(author=member, caption=f"{name} {i}") for i in range(2)]
        for i in range(others):
            other = User.objects.create_user(f"{name}fan{i}")
            for post in posts:
                Like.toggle(post, other)
                Comment.objects.create(post=post, author=other, body="nice")
            Follow.follow(other, member)
            Follow.follow(member, other)
            Comment.objects.create(post=self.theirs, author=member, body=f"again {i}")
        Like.toggle(self.theirs, member)
        return member

    def statements_to_delete(self, deleting):
        with (
            CaptureQueriesContext(connection) as captured,
            self.captureOnCommitCallbacks(execute=True),
        ):
            deleting()
        return len(captured)

    def test_an_accounts_deletion_costs_the_same_statements_whatever_its_likes(self):
        carol, dave = self.active_account("carol", 1), self.active_account("dave", 4)
        few = self.statements_to_delete(lambda: erasure.delete_account(carol))
        many = self.statements_to_delete(lambda: erasure.delete_account(dave))
        self.assertEqual(few, many)

    def test_a_posts_deletion_costs_the_same_statements_whatever_its_likes(self):
        counts = []
        for likes in (1, 4):
            post = self.make_post(caption=f"@bob liked by {likes}")
            for i in range(likes):
                fan = User.objects.create_user(f"fan{likes}x{i}")
                Like.toggle(post, fan)
                Comment.objects.create(post=post, author=fan, body="@bob look")
            counts.append(self.statements_to_delete(post.delete))
        self.assertEqual(counts[0], counts[1])

    def test_the_posts_it_liked_and_commented_on_count_them_no_more(self):
        member = self.active_account("carol", 3)
        Like.toggle(self.theirs, self.owner)
        Comment.objects.create(post=self.theirs, author=self.owner, body="stays")
        self.theirs.refresh_from_db()
        self.assertEqual((self.theirs.like_count, self.theirs.comment_count), (2, 4))
        erasure.delete_account(member)
        self.theirs.refresh_from_db()
        self.assertEqual((self.theirs.like_count, self.theirs.comment_count), (1, 1))

    def test_the_members_it_notified_see_their_unread_count_drop_at_once(self):
        member = User.objects.create_user("carol")
        Like.toggle(self.theirs, member)
        Follow.follow(member, self.stranger)
        self.assertEqual(Notification.unread_count(self.stranger), 2)
        erasure.delete_account(member)
        self.assertEqual(Notification.unread_count(self.stranger), 0)

    def test_its_followers_home_feeds_leave_its_posts_at_once(self):
        for name, delete in (("carol", erasure.delete_account), ("dave", User.delete)):
            with self.subTest(deleted_by=delete.__qualname__):  # the admin: User.delete
                member = User.objects.create_user(name)
                post = self.make_post(author=member)
                Follow.follow(self.owner, member)
                self.assertIn(post.pk, home_page_ids(self.owner, None, 12))
                delete(member)
                self.assertNotIn(post.pk, home_page_ids(self.owner, None, 12))

    def test_a_deleted_post_takes_its_mentions_out_of_the_unread_count_at_once(self):
        post = self.make_post(caption="with @alice")
        Comment.objects.create(post=post, author=self.stranger, body="@sam see this")
        self.assertEqual(Notification.unread_count(self.owner), 1)  # the comment
        self.assertEqual(Notification.unread_count(self.staff), 1)  # the comment's mention
        post.delete()
        self.assertEqual(Notification.unread_count(self.owner), 0)
        self.assertEqual(Notification.unread_count(self.staff), 0)

    def test_posts_go_in_batches_of_about_rows_at_once_likes_and_comments(self):
        member = User.objects.create_user("carol")
        posts = [self.make_post(author=member) for _ in range(4)]
        fans = [User.objects.create_user(f"fan{i}") for i in range(5)]
        for post, likes in zip(posts, (1, 1, 5, 2), strict=True):
            for fan in fans[:likes]:
                Like.toggle(post, fan)
        with mock.patch.object(erasure, "ROWS_AT_ONCE", 3):
            batches = list(erasure._post_batches(member.pk))
            self.assertEqual(batches, [[posts[0].pk, posts[1].pk], [posts[2].pk], [posts[3].pk]])
            erasure.delete_account(member)
        self.assertFalse(Post.objects.filter(pk__in=[p.pk for p in posts]).exists())
        self.assertFalse(Like.objects.filter(post__in=posts).exists())
