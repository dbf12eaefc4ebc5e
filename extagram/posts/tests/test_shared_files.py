"""Photo files shared by posts (same picture, same content-hash name) are never lost.

These tests race real threads, each with its own database connection, on the
suite's database: MariaDB when DATABASE_URL is set (CI's second pass), otherwise
a file-backed SQLite in WAL mode with BEGIN IMMEDIATE transactions, exactly as
`make run` serves the embedded default with 8 threads (see the root conftest).
"""

from collections import Counter
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TransactionTestCase

from extagram.posts.models import Post, StoredFile
from extagram.testing.images import jpeg_bytes
from extagram.testing.threads import run_together
from extagram.uploads.images import process_photo

ROUNDS = 60
# The delete/re-post test sweeps the poster's head start from +HEAD_START seconds
# (it clearly commits first) to -HEAD_START (the deleter clearly finishes first),
# so both orders happen at the ends and the rounds in between race for real.
HEAD_START = 0.25


def _photo(color=(200, 30, 90)):
    return process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(color=color)), max_pixels=10**8)


def _post_into(posts, author, photo, submission=None):
    posts.append(Post.objects.create_with_photo(author, photo, submission=submission))


def _file_state(name):
    try:
        stat = (settings.MEDIA_ROOT / name).stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


class SharedFileRaceTests(TransactionTestCase):
    def setUp(self):
        User = get_user_model()
        self.alice = User.objects.create_user("alice")
        self.bob = User.objects.create_user("bob")

    def posts_missing_files(self):
        return [
            (post.pk, name)
            for post in Post.objects.all()
            for name in post.image_names
            if not (settings.MEDIA_ROOT / name).exists()
        ]

    def test_deleting_a_post_while_another_posts_the_same_picture_loses_no_file(self):
        photo = _photo()
        post = Post.objects.create_with_photo(self.alice, photo, caption="first")
        outcomes = Counter()
        failures = []
        for round_number in range(ROUNDS):
            before = _file_state(post.image_large)
            created = []
            head_start = HEAD_START * (1 - 2 * round_number / (ROUNDS - 1))
            run_together(
                post.delete,
                partial(_post_into, created, self.bob, photo),
                delays=[max(head_start, 0), max(-head_start, 0)],
            )
            after = _file_state(post.image_large)
            if after is None:
                outcomes["file lost"] += 1
            elif after == before:
                outcomes["deleter saw the new post and kept the file"] += 1
            else:
                outcomes["deleter removed the file, poster wrote it again"] += 1
            if self.posts_missing_files():
                failures.append(round_number)
            (post,) = created
        print(f"\n{ROUNDS} delete/re-post races: {dict(outcomes)}; rounds failed: {failures}")
        self.assertEqual(failures, [], "rounds after which a committed post had lost its files")
        self.assertEqual(Post.objects.count(), 1)
        # Both orders happened (the sweep's ends make sure), so both paths were exercised.
        self.assertEqual(len(outcomes), 2, dict(outcomes))

    def test_a_sweep_racing_posts_and_deletions_removes_no_file_in_use(self):
        photo = _photo(color=(10, 160, 70))
        post = Post.objects.create_with_photo(self.alice, photo)
        swept = Counter()
        failures = []
        for round_number in range(ROUNDS // 2):
            created = []
            run_together(
                post.delete,
                partial(_post_into, created, self.bob, photo),
                lambda: swept.update(StoredFile.objects.sweep(grace=0)["deleted"]),
            )
            if self.posts_missing_files():
                failures.append(round_number)
            (post,) = created
        print(f"\nsweeps that raced a delete and a re-post deleted {sum(swept.values())} files")
        self.assertEqual(failures, [], "rounds after which a committed post had lost its files")
        post.delete()
        self.assertEqual(StoredFile.objects.sweep(grace=0)["deleted"], [])
        self.assertEqual(list((settings.MEDIA_ROOT / "photos").rglob("*.jpg")), [])
        self.assertFalse(StoredFile.objects.exists())

    def test_four_posters_two_deleters_and_a_sweep_at_once_lose_no_file(self):
        User = get_user_model()
        users = [
            self.alice,
            self.bob,
            User.objects.create_user("carla"),
            User.objects.create_user("dani"),
        ]
        photos = [_photo(color=(250, 200, 0)), _photo(color=(0, 200, 250))]
        Post.objects.create_with_photo(self.alice, photos[0])
        Post.objects.create_with_photo(self.bob, photos[1])
        failures = []
        for round_number in range(ROUNDS // 2):
            created = []
            doomed = list(Post.objects.order_by("?")[:2])
            run_together(
                *(post.delete for post in doomed),
                *(
                    partial(_post_into, created, user, photos[n % 2])
                    for n, user in enumerate(users)
                ),
                lambda: StoredFile.objects.sweep(grace=0),
            )
            if self.posts_missing_files():
                failures.append(round_number)
        self.assertEqual(failures, [], "rounds after which a committed post had lost its files")
        self.assertEqual(Post.objects.count(), 2 + (ROUNDS // 2) * 2)

    def test_the_same_submission_posted_twice_at_once_makes_one_post(self):
        photo = _photo(color=(90, 90, 250))
        posts = []
        for _round in range(10):
            Post.objects.all().delete()
            posts.clear()
            run_together(
                partial(_post_into, posts, self.alice, photo, submission="a" * 64),
                partial(_post_into, posts, self.alice, photo, submission="a" * 64),
            )
            self.assertEqual(Post.objects.count(), 1)
            self.assertEqual(posts[0].pk, posts[1].pk)
            self.assertEqual(self.posts_missing_files(), [])
