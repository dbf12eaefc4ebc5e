"""Seed the social shape for benchmarks: posts and users (seed_posts), then a follow graph,
the posts' tags and some notifications.

The follow graph (issue 12's shape): every member follows between --min-follows and
--max-follows accounts (uniform); a share of those (--star-share) go to the --stars
most popular accounts, so a few accounts are followed by thousands, as on real sites
(a heavy-tailed in-degree). Running it again tops up: existing follows are kept.
"""

import random
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from extagram.core.management.commands.seed_posts import STACK_NOTE
from extagram.posts.models import Post
from extagram.social.models import (
    Follow,
    Notification,
    PostTag,
    Tag,
    home_feeds_changed,
    notifications_changed,
    profile_numbers_changed,
)
from extagram.social.text import tags_in

INSERT_BATCH = 5000
# followers whose follows are built, checked and inserted together (~175 rows each)
FOLLOWERS_BATCH = 200
NOTIFIED_USERS = 200
NOTIFICATIONS_EACH = 60


class Command(BaseCommand):
    help = (
        "Seed posts, users, a follow graph, tags and notifications (the social bench shape). "
        + STACK_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, required=True)
        parser.add_argument("--users", type=int, default=10000)
        parser.add_argument("--min-follows", type=int, default=50)
        parser.add_argument("--max-follows", type=int, default=300)
        parser.add_argument("--stars", type=int, default=20, help="accounts most people follow")
        parser.add_argument(
            "--star-share", type=float, default=0.1, help="share of each member's follows"
        )
        parser.add_argument(
            "--password",
            help="password for the bench users (default: unusable, so nobody can sign in as them)",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--photos", type=int, default=4)

    def handle(self, *args, posts, users, min_follows, max_follows, stars, star_share, **opts):
        if not 0 <= min_follows <= max_follows < users:
            raise CommandError("need 0 <= --min-follows <= --max-follows < --users")
        started = time.monotonic()
        call_command(
            "seed_posts",
            posts=posts,
            users=users,
            photos=opts["photos"],
            password=opts["password"],
            seed=opts["seed"],
            stdout=self.stdout,
        )
        User = get_user_model()
        names = [f"bench{i:03d}" for i in range(users)]
        ids = list(
            User.objects.filter(username__in=names)
            .order_by("username")
            .values_list("id", flat=True)
        )
        rng = random.Random(opts["seed"])
        follows = self._follows(rng, ids, min_follows, max_follows, stars, star_share)
        tagged = self._tags()
        notified = self._notifications(rng, ids)
        home_feeds_changed()  # the follows went in with bulk_create: no signals
        profile_numbers_changed()
        self._analyze()
        self.stdout.write(
            f"Social shape: {len(ids)} members, {follows} new follows "
            f"({Follow.objects.count()} in all), {tagged} post tags, {notified} notifications; "
            f"{time.monotonic() - started:.1f}s."
        )

    def _follows(self, rng, ids, low, high, stars, star_share):
        """Insert the follow graph, FOLLOWERS_BATCH followers at a time; the new follows' count.

        Memory is bounded by the batch, whatever the number of members: only the batch's
        existing follows are read (from the follow_once index), so a top-up skips them
        without holding every pair (1.75 million at 10,000 members got a 256 MB container
        OOM-killed when they were all read at once).
        """
        star_ids = ids[:stars]
        created = 0
        for start in range(0, len(ids), FOLLOWERS_BATCH):
            followers = ids[start : start + FOLLOWERS_BATCH]
            have = set(
                Follow.objects.filter(follower_id__in=followers).values_list(
                    "follower_id", "followee_id"
                )
            )
            rows = []
            for follower in followers:
                wanted = rng.randint(low, high)
                chosen = set()
                for star in star_ids:
                    if len(chosen) < wanted * star_share and star != follower:
                        chosen.add(star)
                while len(chosen) < wanted:
                    other = ids[rng.randrange(len(ids))]
                    if other != follower:
                        chosen.add(other)
                rows += [
                    Follow(follower_id=follower, followee_id=f)
                    for f in sorted(chosen)
                    if (follower, f) not in have
                ]
            created += self._insert(Follow, rows)
            self.stdout.write(f"  {created} follows", ending="\r")
            self.stdout.flush()
        return created

    def _tags(self):
        """PostTag rows for every post's caption (seed_posts bulk-inserts, skipping signals).

        Posts are read in id order, INSERT_BATCH at a time, from after the newest post
        that has a tag already (a top-up tags only the posts it added).
        """
        tag_ids = dict(Tag.objects.values_list("name", "id"))
        newest = PostTag.objects.order_by("-post_id").values_list("post_id", flat=True).first()
        last, rows, created = newest or 0, [], 0
        while True:
            batch = list(
                Post.objects.filter(id__gt=last)
                .order_by("id")
                .values_list("id", "caption")[:INSERT_BATCH]
            )
            if not batch:
                break
            last = batch[-1][0]
            for post_id, caption in batch:
                for name in tags_in(caption):
                    if name not in tag_ids:
                        tag_ids[name] = Tag.objects.get_or_create(name=name)[0].pk
                    rows.append(PostTag(post_id=post_id, tag_id=tag_ids[name]))
            created += self._insert(PostTag, rows)
            rows = []
        return created

    def _notifications(self, rng, ids):
        """NOTIFICATIONS_EACH likes-style notifications for the first NOTIFIED_USERS members."""
        newest = list(Post.objects.order_by("-id").values_list("id", flat=True)[:500])
        if not newest or len(ids) < 2:  # nobody else to be notified by
            return 0
        rows = []
        for recipient in ids[:NOTIFIED_USERS]:
            have = Notification.objects.filter(recipient_id=recipient).count()
            for _ in range(have, NOTIFICATIONS_EACH):
                actor = recipient
                while actor == recipient:  # nobody is notified of their own likes
                    actor = ids[rng.randrange(len(ids))]
                rows.append(
                    Notification(
                        recipient_id=recipient,
                        actor_id=actor,
                        kind=Notification.LIKE,
                        post_id=newest[rng.randrange(len(newest))],
                    )
                )
        inserted = self._insert(Notification, rows)
        notifications_changed()  # bulk_create: no signals
        return inserted

    @staticmethod
    def _insert(model, rows):
        with transaction.atomic():
            model.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        return len(rows)

    @staticmethod
    def _analyze():
        tables = [m._meta.db_table for m in (Follow, PostTag, Tag, Notification, Post)]
        with connection.cursor() as cursor:
            if connection.vendor == "mysql" and not connection.in_atomic_block:
                cursor.execute(
                    "ANALYZE TABLE " + ", ".join(connection.ops.quote_name(t) for t in tables)
                )
                cursor.fetchall()
            elif connection.vendor == "sqlite":
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
