import re
from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Post
from extagram.social.management.commands import seed_social
from extagram.social.models import Follow, Notification, PostTag

SHAPE = {"users": 30, "min_follows": 3, "max_follows": 8, "stars": 2, "photos": 1}


def seed(posts, **options):
    out = StringIO()
    call_command("seed_social", posts=posts, stdout=out, **{**SHAPE, **options})
    return out.getvalue()


def follow_pairs():
    return set(Follow.objects.values_list("follower_id", "followee_id"))


class SeedSocialTests(TestCase):
    def test_it_seeds_members_follows_within_the_bounds_tags_and_notifications(self):
        seed(20)
        self.assertEqual(Post.objects.count(), 20)
        per_member = {}
        for follower_id, _ in follow_pairs():
            per_member[follower_id] = per_member.get(follower_id, 0) + 1
        self.assertEqual(len(per_member), SHAPE["users"])
        self.assertTrue(all(3 <= n <= 8 for n in per_member.values()), per_member)
        self.assertFalse(Follow.objects.filter(follower=F("followee")).exists())
        tagged = Post.objects.exclude(caption="Bench photo").count()
        self.assertEqual(PostTag.objects.values("post").distinct().count(), tagged)
        self.assertTrue(Notification.objects.exists())

    def test_a_top_up_adds_posts_and_their_tags_and_keeps_the_same_follow_graph(self):
        seed(10)
        pairs = follow_pairs()
        notifications = Notification.objects.count()
        out = seed(25)
        self.assertEqual(Post.objects.count(), 25)
        self.assertEqual(follow_pairs(), pairs)
        self.assertIn(" 0 new follows", out)
        self.assertEqual(Notification.objects.count(), notifications)
        untagged = Post.objects.exclude(caption="Bench photo").exclude(post_tags__isnull=False)
        self.assertFalse(untagged.exists())

    def test_it_reads_existing_follows_a_batch_of_followers_at_a_time(self):
        # Reading every follow pair at once got a 256 MB container OOM-killed at
        # 10,000 members; each read must name at most FOLLOWERS_BATCH followers.
        seed(5)
        with (
            mock.patch.object(seed_social, "FOLLOWERS_BATCH", 7),
            CaptureQueriesContext(connection) as queries,
        ):
            seed(5)
        table = Follow._meta.db_table
        reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and table in q["sql"]]
        reads = [sql for sql in reads if "COUNT(" not in sql]
        self.assertEqual(len(reads), 5)  # 30 members in batches of 7
        for sql in reads:
            followers = re.search(r"follower_id\W* IN \(([^)]*)\)", sql)
            self.assertIsNotNone(followers, sql)
            self.assertLessEqual(len(followers.group(1).split(",")), 7)
