from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.template.defaultfilters import linebreaksbr

from extagram.posts.models import CAPTION_MAX, Comment, Like, Post
from extagram.social.text import render
from extagram.testing.base import BaseTestCase


def seed(**options):
    options.setdefault("photos", 1)
    out = StringIO()
    call_command("seed_posts", stdout=out, **options)
    return out.getvalue()


class SeedPostsTests(BaseTestCase):
    def assertCountsMatchTheTables(self):
        for post in Post.objects.annotate(
            likes_n=Count("likes", distinct=True), comments_n=Count("comments", distinct=True)
        ):
            self.assertEqual(post.like_count, post.likes_n, post)
            self.assertEqual(post.comment_count, post.comments_n, post)

    def test_it_tops_the_database_up_to_the_wanted_number_of_viewable_posts(self):
        call_command("seed_posts", posts=2500, users=5, photos=2, stdout=StringIO())
        self.assertEqual(Post.objects.count(), 2500)
        call_command("seed_posts", posts=2600, users=5, photos=2, stdout=StringIO())
        self.assertEqual(Post.objects.count(), 2600)
        response = self.client.get("/")
        self.assertEqual(len(response.context["posts"]), 12)
        newest = Post.objects.first()
        self.assertEqual(self.client.get(newest.large_url).status_code, 200)

    def test_without_the_new_options_it_keeps_short_captions_and_adds_no_likes_or_comments(self):
        out = seed(posts=10, users=3)
        self.assertEqual(Post.objects.first().caption[:12], "Post #000010")
        self.assertLess(len(Post.objects.first().caption), 100)
        self.assertFalse(Like.objects.exists())
        self.assertFalse(Comment.objects.exists())
        self.assertIn("10 posts in the database.", out)
        self.assertIn("Created 10 posts", out)

    def test_it_gives_every_post_a_caption_of_the_asked_length(self):
        seed(posts=30, users=3, caption_chars=CAPTION_MAX)
        captions = list(Post.objects.values_list("caption", flat=True))
        self.assertEqual(len(captions), 30)
        self.assertEqual({len(caption) for caption in captions}, {CAPTION_MAX})
        self.assertEqual(len(set(captions)), 30)
        for caption in captions:
            self.assertIn("#extagram", caption)
            self.assertIn("&", caption)
            self.assertIn("<", caption)
            self.assertEqual(caption, caption.strip())

    def test_it_keeps_short_asked_captions_unique_and_exact(self):
        seed(posts=25, users=3, caption_chars=20)
        captions = list(Post.objects.values_list("caption", flat=True))
        self.assertEqual({len(caption) for caption in captions}, {20})
        self.assertEqual(len(set(captions)), 25)

    def test_it_gets_long_captions_escaped_on_the_feed(self):
        seed(posts=15, users=3, caption_chars=1500)
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        newest = Post.objects.first()
        # escaped, with its #tags linked (extagram.social.text)
        self.assertContains(response, linebreaksbr(render(newest.caption)))
        self.assertContains(response, "&lt;3")
        self.assertContains(response, "&amp; friends")
        self.assertNotContains(response, "<3")

    def test_it_refuses_a_caption_length_it_cannot_store(self):
        for chars in (-1, CAPTION_MAX + 1):
            with self.subTest(chars=chars), self.assertRaises(CommandError):
                seed(posts=5, users=3, caption_chars=chars)
        self.assertFalse(Post.objects.exists())

    def test_it_likes_and_comments_exactly_the_newest_posts(self):
        seed(posts=20, users=6, likes_per_post=4, comments_per_post=3, engaged_posts=5)
        newest = list(Post.objects.order_by("-id").values_list("id", flat=True)[:5])
        liked = Like.objects.values("post_id").annotate(n=Count("id"), users=Count("user"))
        self.assertEqual({row["post_id"]: row["n"] for row in liked}, dict.fromkeys(newest, 4))
        for post_id in newest:
            likers = Like.objects.filter(post_id=post_id).values_list("user__username", flat=True)
            self.assertEqual(len(set(likers)), 4)
            self.assertTrue(all(name.startswith("bench") for name in likers))
        commented = Comment.objects.values("post_id").annotate(n=Count("id"))
        self.assertEqual({row["post_id"]: row["n"] for row in commented}, dict.fromkeys(newest, 3))
        self.assertCountsMatchTheTables()
        self.assertEqual(Post.objects.get(pk=newest[0]).like_count, 4)
        self.assertEqual(Post.objects.get(pk=newest[-1] - 1).like_count, 0)

    def test_it_writes_comments_of_80_to_200_characters_from_users_in_turn(self):
        seed(posts=10, users=4, comments_per_post=12, engaged_posts=10)
        bodies = list(Comment.objects.values_list("body", flat=True))
        self.assertEqual(len(bodies), 120)
        self.assertTrue(all(80 <= len(body) <= 200 for body in bodies))
        self.assertGreater(len({len(body) for body in bodies}), 10)
        authors = Comment.objects.values("author__username").annotate(n=Count("id"))
        self.assertEqual({row["n"] for row in authors}, {30})

    def test_it_engages_every_post_when_there_are_fewer_than_asked(self):
        seed(posts=7, users=3, likes_per_post=2, comments_per_post=1)
        self.assertEqual(Post.objects.filter(like_count=2, comment_count=1).count(), 7)
        self.assertCountsMatchTheTables()

    def test_a_second_run_with_the_same_options_adds_nothing_and_keeps_counts_right(self):
        options = dict(posts=12, users=5, likes_per_post=5, comments_per_post=2, engaged_posts=8)
        seed(**options)
        likes, comments = Like.objects.count(), Comment.objects.count()
        self.assertEqual((likes, comments), (40, 16))
        out = seed(**options)  # one more photo post, the newest: it gets engaged
        self.assertIn("Created 1 posts", out)
        self.assertEqual(Like.objects.count(), likes + 5)
        self.assertEqual(Comment.objects.count(), comments + 2)
        self.assertCountsMatchTheTables()

    def test_it_tops_up_posts_that_already_have_some_likes_and_comments(self):
        seed(posts=6, users=4)
        post = Post.objects.first()
        Like.toggle(post, self.owner)  # not a bench user: counts, and is kept
        bench = get_user_model().objects.get(username="bench002")
        Like.toggle(post, bench)
        Comment.objects.create(post=post, author=self.stranger, body="First!")
        # the run's photo post is the newest now, so the two newest are it and `post`
        seed(posts=6, users=4, likes_per_post=4, comments_per_post=2, engaged_posts=2)
        post.refresh_from_db()
        self.assertEqual((post.like_count, post.comment_count), (4, 2))
        self.assertTrue(Like.objects.filter(post=post, user=self.owner).exists())
        self.assertCountsMatchTheTables()

    def test_it_refuses_more_likes_per_post_than_users_and_creates_nothing(self):
        users = get_user_model().objects.count()
        with self.assertRaisesMessage(CommandError, "--likes-per-post 6"):
            seed(posts=10, users=5, likes_per_post=6)
        self.assertFalse(Post.objects.exists())
        self.assertEqual(get_user_model().objects.count(), users)

    def test_it_refuses_negative_engagement(self):
        for option in ("likes_per_post", "comments_per_post", "engaged_posts"):
            with self.subTest(option=option), self.assertRaises(CommandError):
                seed(posts=5, users=3, **{option: -1})
        self.assertFalse(Post.objects.exists())

    def test_it_prints_a_summary_of_what_it_created(self):
        out = seed(posts=9, users=3, likes_per_post=2, comments_per_post=1, engaged_posts=4)
        self.assertIn("Created 9 posts (short captions), 3 users, 8 likes and 4 comments", out)
        self.assertIn("on the newest 4 posts", out)
