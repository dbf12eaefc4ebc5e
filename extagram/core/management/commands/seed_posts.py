import random
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from extagram.accounts.models import Profile
from extagram.core.batches import each_row
from extagram.core.management.commands.load_demo import demo_picture
from extagram.posts.models import CAPTION_MAX, PHOTO_FIELDS, Comment, Like, Post
from extagram.posts.signals import posts_added_in_bulk
from extagram.uploads.images import process_photo

CAPTION = "Post #{n:06d} - sunset over the harbour with my friends & coffee <3 #extagram #tbt"
BATCH = 2000
# likes/comments: rows built per transaction, and rows per INSERT (MySQL packet size)
ENGAGEMENT_BATCH = 20000
INSERT_BATCH = 1000

# Material for long captions (--caption-chars) and comment bodies: plain ASCII so that
# "N characters" means the same thing to Python, SQLite and MySQL (utf8mb4).
SENTENCES = [
    "Golden hour over the harbour again, and somehow it never gets old.",
    "We walked the whole coast path before breakfast & still made it back for coffee.",
    "The bakery on the corner finally reopened: the almond croissants are worth the queue.",
    "Rain all morning, then this light for ten minutes. Worth the wait.",
    "Three ferries, two trains and one very patient dog later, we made it.",
    "Note to self: the 6 < 7 rule applies to alarms too (six is too early).",
    "Grandma's recipe, my kitchen, a lot more flour on the floor than planned.",
    "If you ever get the chance, take the slow road through the valley.",
    "Market day: figs, cheese, bread & far too many postcards.",
    "First swim of the year. The water disagreed with the calendar.",
    "Somebody said the view from the top was overrated. Somebody was wrong.",
    "Found this little place by accident and stayed until they closed.",
    "Back to the city tomorrow, so tonight is for long dinners & bad jokes.",
    "The old lighthouse keeper told us stories for an hour. Best tour ever.",
]
HASHTAGS = [
    "#extagram",
    "#tbt",
    "#sunset",
    "#nofilter",
    "#travel",
    "#coffee",
    "#weekend",
    "#harbour",
    "#friends",
    "#latergram",
    "#goldenhour",
    "#slowtravel",
]
COMMENT_PHRASES = [
    "This is stunning!",
    "Wow, the colours <3",
    "Where is this? Adding it to the list right now.",
    "Miss you guys & this place so much.",
    "That light though.",
    "Take me with you next time, please.",
    "Best one yet, seriously.",
    "I was there last summer and it looked exactly like this.",
    "Is that the place with the amazing pastries?",
    "Framing this one for the living room.",
    "Okay, now I need a holiday.",
    "The dog in the corner made my day.",
]
COMMENT_MIN, COMMENT_MAX_CHARS = 80, 200
COMMENT_VARIANTS = 97


def long_caption(n, length):
    """A caption of exactly `length` characters, unique for post number `n`.

    Starts with the number (so it stays unique even when short), then an ampersand,
    a `<` and a hashtag (so HTML escaping is exercised), then sentences and hashtags
    picked from `n`, with a paragraph break now and then (rendered with linebreaksbr).
    """
    parts = [f"Post #{n:06d} & friends <3 #extagram "]
    size = len(parts[0])
    i = n
    while size < length:
        sentence = SENTENCES[i % len(SENTENCES)]
        tag = HASHTAGS[(i * 5) % len(HASHTAGS)]
        piece = f"{sentence} {tag}" + ("\n\n" if i % 4 == 3 else " ")
        parts.append(piece)
        size += len(piece)
        i += 1
    return _tidy("".join(parts)[:length])


def comment_bodies():
    """Comment bodies of 80 to 200 characters, of varied lengths and words."""
    bodies = []
    for v in range(COMMENT_VARIANTS):
        length = COMMENT_MIN + (v * 37) % (COMMENT_MAX_CHARS - COMMENT_MIN + 1)
        words, size, i = [], 0, v
        while size < length:
            phrase = COMMENT_PHRASES[i % len(COMMENT_PHRASES)]
            words.append(phrase)
            size += len(phrase) + 1
            i += 7
        bodies.append(_tidy(" ".join(words)[:length]))
    return bodies


def _tidy(text):
    """No trailing whitespace (forms would strip it), keeping the length."""
    return text[:-1] + "." if text[-1:].isspace() else text


# where to run a seeding command on the stack (its --help says it)
STACK_NOTE = (
    "On the Compose stack run it in the upload container (docker compose exec upload "
    "python manage.py ...), as the bench does: the app containers' 128 MB, beside their "
    "server, are too little for its batches (the kernel kills it)."
)


class Command(BaseCommand):
    help = (
        "Fill the database with many posts quickly (for benchmarks): a few real photos "
        "through the pipeline, then N rows that share them. Optionally long captions, "
        "and likes and comments on the newest posts. Running it again tops up. " + STACK_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, required=True, help="total posts wanted")
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--photos", type=int, default=8, help="distinct photo files")
        parser.add_argument(
            "--password",
            help="password for the bench users (default: unusable, so nobody can sign in as them)",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--caption-chars",
            type=int,
            default=0,
            help=(
                f"caption length of the posts this run creates, 1..{CAPTION_MAX} "
                "(default 0: a short caption)"
            ),
        )
        parser.add_argument(
            "--likes-per-post",
            type=int,
            default=0,
            help="likes each engaged post gets, from distinct bench users (needs --users >= N)",
        )
        parser.add_argument(
            "--comments-per-post",
            type=int,
            default=0,
            help="comments each engaged post gets, from the bench users in turn",
        )
        parser.add_argument(
            "--engaged-posts",
            type=int,
            default=1000,
            help="how many of the newest posts get the likes and comments (default 1000)",
        )

    def handle(
        self,
        *args,
        posts,
        users,
        photos,
        password,
        seed,
        caption_chars,
        likes_per_post,
        comments_per_post,
        engaged_posts,
        **options,
    ):
        if posts < 0 or users < 1 or photos < 1:
            raise CommandError("--posts must be >= 0, --users and --photos >= 1")
        if caption_chars != 0 and not 1 <= caption_chars <= CAPTION_MAX:
            raise CommandError(
                f"--caption-chars must be between 1 and {CAPTION_MAX} (0: the short caption)"
            )
        if likes_per_post < 0 or comments_per_post < 0 or engaged_posts < 0:
            raise CommandError(
                "--likes-per-post, --comments-per-post and --engaged-posts must be >= 0"
            )
        if likes_per_post > users:
            raise CommandError(
                f"--likes-per-post {likes_per_post} needs at least as many --users "
                f"(got {users}): each like comes from a different user"
            )
        started = time.monotonic()
        User = get_user_model()
        users_before = User.objects.count()
        rng = random.Random(seed)
        authors = self._users(users, password)
        first = Post.objects.count() + 1
        templates = [
            self._photo_post(
                rng,
                authors[i % len(authors)],
                long_caption(first + i, caption_chars) if caption_chars else "Bench photo",
            )
            for i in range(photos)
        ]
        existing = Post.objects.count()
        missing = max(0, posts - existing)
        created = 0
        while created < missing:
            size = min(BATCH, missing - created)
            rows = []
            for _ in range(size):
                n = existing + created + len(rows) + 1
                model = templates[n % len(templates)]
                rows.append(
                    Post(
                        author=authors[n % len(authors)],
                        caption=self._caption(n, caption_chars),
                        alt_text=model.alt_text,
                        **{field: getattr(model, field) for field in PHOTO_FIELDS},
                        width=model.width,
                        height=model.height,
                        small_width=model.small_width,
                        medium_width=model.medium_width,
                    )
                )
            with transaction.atomic():
                Post.objects.bulk_create(rows)
                posts_added_in_bulk.send(sender=Post)
            created += size
            self.stdout.write(f"  {existing + created} posts", ending="\r")
            self.stdout.flush()
        likes = comments = engaged = 0
        if likes_per_post or comments_per_post:
            likes, comments, engaged = self._engage(
                authors, engaged_posts, likes_per_post, comments_per_post
            )
            posts_added_in_bulk.send(sender=Post)  # the likes went in with bulk_create too
        analyzed = self._analyze()
        self.stdout.write(f"\n{Post.objects.count()} posts in the database.")
        caption = f"{caption_chars}-char" if caption_chars else "short"
        self.stdout.write(
            f"Created {photos + created} posts ({caption} captions), "
            f"{User.objects.count() - users_before} users, {likes} likes and {comments} "
            f"comments on the newest {engaged} posts "
            f"(up to {likes_per_post} likes, {comments_per_post} comments each); "
            f"{'analyzed tables' if analyzed else 'no ANALYZE'}; "
            f"{time.monotonic() - started:.1f}s."
        )

    @staticmethod
    def _caption(n, caption_chars):
        return long_caption(n, caption_chars) if caption_chars else CAPTION.format(n=n)

    def _users(self, count, password):
        User = get_user_model()
        hashed = make_password(password)  # unusable when None
        names = [f"bench{i:03d}" for i in range(count)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            [User(username=name, password=hashed) for name in names if name not in existing]
        )
        users = list(User.objects.filter(username__in=names).order_by("username"))
        # bulk_create skips the signal that gives every user a profile (its unique handle)
        Profile.objects.bulk_create(
            [Profile(user=user, handle=user.username) for user in users], ignore_conflicts=True
        )
        return users

    def _photo_post(self, rng, author, caption):
        photo = process_photo(
            demo_picture(rng), max_pixels=settings.UPLOAD_MAX_PIXELS, widths=settings.PHOTO_WIDTHS
        )
        return Post.objects.create_with_photo(
            author, photo, caption=caption, alt_text="A generated landscape"
        )

    def _engage(self, authors, engaged_posts, likes_per_post, comments_per_post):
        """Top the newest posts up to the wanted likes and comments, then recount them.

        A post that already has enough likes (or comments) gets no more, so running
        again with the same options adds nothing. bulk_create skips the signals that
        keep like_count/comment_count, so both are set from the tables afterwards.
        """
        ids = list(Post.objects.order_by("-id").values_list("id", flat=True)[:engaged_posts])
        if not ids:
            return 0, 0, 0
        newest = Post.objects.filter(id__gte=ids[-1])  # exactly the engaged posts
        had_likes = self._counts(Like, ids[-1])
        had_comments = self._counts(Comment, ids[-1])
        liked_by = self._likers(ids[-1], ids, had_likes, likes_per_post)
        user_ids = [user.pk for user in authors]
        bodies = comment_bodies()
        likes = comments = 0
        like_rows, comment_rows = [], []
        for post_id in reversed(ids):  # oldest first: ids and created_at in step
            start = post_id * 7
            if had_likes.get(post_id, 0) < likes_per_post:
                already = liked_by.get(post_id, set())
                wanted = likes_per_post - had_likes.get(post_id, 0)
                for k in range(len(user_ids)):
                    if not wanted:
                        break
                    user_id = user_ids[(start + k) % len(user_ids)]
                    if user_id not in already:
                        like_rows.append(Like(post_id=post_id, user_id=user_id))
                        wanted -= 1
            for k in range(had_comments.get(post_id, 0), comments_per_post):
                comment_rows.append(
                    Comment(
                        post_id=post_id,
                        author_id=user_ids[(start + k) % len(user_ids)],
                        body=bodies[(post_id + k * 13) % len(bodies)],
                    )
                )
            if len(like_rows) + len(comment_rows) >= ENGAGEMENT_BATCH:
                likes += len(like_rows)
                comments += len(comment_rows)
                self._insert(like_rows, comment_rows)
                like_rows, comment_rows = [], []
                self.stdout.write(f"  {likes} likes, {comments} comments", ending="\r")
                self.stdout.flush()
        likes += len(like_rows)
        comments += len(comment_rows)
        self._insert(like_rows, comment_rows)
        newest.update(
            like_count=self._recount(Like),
            comment_count=self._recount(Comment),
        )
        return likes, comments, len(ids)

    @staticmethod
    def _counts(model, first_id):
        rows = (
            model.objects.filter(post_id__gte=first_id)
            .values("post_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["post_id"]: row["n"] for row in rows}

    @staticmethod
    def _likers(first_id, ids, had_likes, wanted):
        """Who already likes the posts that have some likes but not enough."""
        partial = {post_id for post_id in ids if 0 < had_likes.get(post_id, 0) < wanted}
        liked_by = {}
        if partial:
            likes = Like.objects.filter(post_id__gte=first_id)
            rows = likes.values_list("pk", "post_id", "user_id")
            for _pk, post_id, user_id in each_row(rows, 10000):
                if post_id in partial:
                    liked_by.setdefault(post_id, set()).add(user_id)
        return liked_by

    @staticmethod
    def _insert(like_rows, comment_rows):
        with transaction.atomic():
            # ignore_conflicts: a like someone added meanwhile is not an error
            Like.objects.bulk_create(like_rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
            Comment.objects.bulk_create(comment_rows, batch_size=INSERT_BATCH)

    @staticmethod
    def _recount(model):
        count = (
            model.objects.filter(post=OuterRef("pk"))
            .order_by()
            .values("post")
            .annotate(n=Count("id"))
            .values("n")
        )
        return Coalesce(Subquery(count), Value(0))

    def _analyze(self):
        """Refresh the optimizer's statistics now that the tables changed a lot.

        InnoDB would recalculate them by itself, but later and in the background:
        a benchmark started right after seeding would plan with the stale ones.
        ANALYZE TABLE commits implicitly on MySQL, so not inside a transaction
        (a test case); on SQLite ANALYZE is cheap at these sizes.
        """
        tables = [model._meta.db_table for model in (Post, Like, Comment, get_user_model())]
        with connection.cursor() as cursor:
            if connection.vendor == "mysql" and not connection.in_atomic_block:
                cursor.execute(
                    "ANALYZE TABLE " + ", ".join(connection.ops.quote_name(t) for t in tables)
                )
                cursor.fetchall()
                return True
            if connection.vendor == "sqlite":
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
                return True
        return False
