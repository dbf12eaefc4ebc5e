"""Deleting an account or a post does work that does not grow with its likes, comments,
follows and notifications, and every count it touches is right at once."""

from unittest import mock

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.accounts import erasure
from extagram.posts.models import Comment, Like, Post
from extagram.social import models as social_models
from extagram.social.models import Follow, Notification, home_page_ids, replace_stamp
from extagram.testing.base import BaseTestCase

User = get_user_model()


def deleted_table(sql):
    """The table a DELETE statement deletes from (None for another statement)."""
    words = sql.split()
    return words[2].strip('`"') if words[:2] == ["DELETE", "FROM"] else None


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

    def work_to_delete(self, deleting):
        """(statements, cache stamps renewed) while `deleting()` runs and commits."""
        with (
            CaptureQueriesContext(connection) as captured,
            mock.patch.object(social_models, "replace_stamp", wraps=replace_stamp) as renewed,
            self.captureOnCommitCallbacks(execute=True),
        ):
            deleting()
        return len(captured), renewed.call_count

    def test_an_accounts_deletion_costs_the_same_work_whatever_its_likes(self):
        carol, dave = self.active_account("carol", 1), self.active_account("dave", 4)
        few = self.work_to_delete(lambda: erasure.delete_account(carol))
        many = self.work_to_delete(lambda: erasure.delete_account(dave))
        self.assertEqual(few, many)

    def test_an_accounts_deletion_renews_the_same_stamps_whatever_its_posts(self):
        renewed = []
        for name, posts in (("carol", 1), ("dave", 3)):
            member = User.objects.create_user(name)
            for _ in range(posts):
                Like.toggle(self.make_post(author=member), self.stranger)
            renewed.append(self.work_to_delete(lambda m=member: erasure.delete_account(m))[1])
        self.assertEqual(renewed[0], renewed[1])

    def test_a_posts_deletion_costs_the_same_work_whatever_its_likes(self):
        work = []
        for likes in (1, 4):
            post = self.make_post(caption=f"@bob liked by {likes}")
            for i in range(likes):
                fan = User.objects.create_user(f"fan{likes}x{i}")
                Like.toggle(post, fan)
                Comment.objects.create(post=post, author=fan, body="@bob look")
            work.append(self.work_to_delete(post.delete))
        self.assertEqual(work[0], work[1])

    def test_the_posts_it_liked_and_commented_on_count_them_no_more(self):
        member = self.active_account("carol", 3)  # 3 comments on bob's post
        other = self.make_post(author=self.staff)
        Like.toggle(other, member)
        Comment.objects.create(post=other, author=member, body="one")
        Like.toggle(self.theirs, self.owner)
        Comment.objects.create(post=self.theirs, author=self.owner, body="stays")
        erasure.delete_account(member)
        self.theirs.refresh_from_db()
        other.refresh_from_db()
        self.assertEqual((self.theirs.like_count, self.theirs.comment_count), (1, 1))
        self.assertEqual((other.like_count, other.comment_count), (0, 0))

    def test_accounts_deleted_together_by_the_admin_each_take_their_own(self):
        carol, dave = User.objects.create_user("carol"), User.objects.create_user("dave")
        for member, comments in ((carol, 1), (dave, 2)):
            Like.toggle(self.theirs, member)
            for _ in range(comments):
                Comment.objects.create(post=self.theirs, author=member, body="hi")
        Like.toggle(self.theirs, self.owner)
        User.objects.filter(pk__in=[carol.pk, dave.pk]).delete()
        self.theirs.refresh_from_db()
        self.assertEqual((self.theirs.like_count, self.theirs.comment_count), (1, 0))

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

    def test_a_deleted_post_takes_a_moved_comments_notification_out_at_once(self):
        first, second = self.make_post(), self.make_post()
        comment = Comment.objects.create(post=first, author=self.stranger, body="hi")
        comment.post = second  # the admin can move a comment; its notification names first
        comment.save()
        self.assertEqual(Notification.unread_count(self.owner), 1)
        second.delete()
        self.assertEqual(Notification.unread_count(self.owner), 0)

    def test_posts_go_in_batches_of_about_rows_at_once_likes_and_comments(self):
        member = User.objects.create_user("carol")
        posts = [self.make_post(author=member) for _ in range(4)]
        fans = [User.objects.create_user(f"fan{i}") for i in range(5)]
        for post, likes in zip(posts, (1, 1, 5, 2), strict=True):
            for fan in fans[:likes]:
                Like.toggle(post, fan)
        with mock.patch.object(erasure, "ROWS_AT_ONCE", 4):
            batches = list(erasure._post_batches(member.pk))
            self.assertEqual(batches, [[posts[0].pk, posts[1].pk], [posts[2].pk], [posts[3].pk]])
            with CaptureQueriesContext(connection) as captured:
                erasure.delete_account(member)
        deletes = [q for q in captured if deleted_table(q["sql"]) == Post._meta.db_table]
        self.assertEqual(len(deletes), 3)
        self.assertFalse(Post.objects.filter(pk__in=[p.pk for p in posts]).exists())
        self.assertFalse(Like.objects.filter(post__in=posts).exists())
