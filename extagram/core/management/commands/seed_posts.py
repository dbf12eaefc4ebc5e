import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from extagram.core.management.commands.load_demo import demo_picture
from extagram.posts.models import Post
from extagram.uploads.images import process_photo

CAPTION = "Post #{n:06d} - sunset over the harbour with my friends & coffee <3 #extagram #tbt"
BATCH = 2000


class Command(BaseCommand):
    help = (
        "Fill the database with many posts quickly (for benchmarks): a few real photos "
        "through the pipeline, then N rows that share them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, required=True, help="total posts wanted")
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--photos", type=int, default=8, help="distinct photo files")
        parser.add_argument("--password", help="password for the bench users (default: unusable)")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, posts, users, photos, password, seed, **options):
        if posts < 0 or users < 1 or photos < 1:
            raise CommandError("--posts must be >= 0, --users and --photos >= 1")
        rng = random.Random(seed)
        authors = self._users(users, password)
        templates = [self._photo_post(rng, authors[i % len(authors)]) for i in range(photos)]
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
                        caption=CAPTION.format(n=n),
                        alt_text=model.alt_text,
                        image_large=model.image_large,
                        image_small=model.image_small,
                        width=model.width,
                        height=model.height,
                        small_width=model.small_width,
                    )
                )
            with transaction.atomic():
                Post.objects.bulk_create(rows)
            created += size
            self.stdout.write(f"  {existing + created} posts", ending="\r")
            self.stdout.flush()
        self.stdout.write(f"\n{Post.objects.count()} posts in the database.")

    def _users(self, count, password):
        User = get_user_model()
        hashed = make_password(password)  # unusable when None
        names = [f"bench{i:03d}" for i in range(count)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            [User(username=name, password=hashed) for name in names if name not in existing]
        )
        return list(User.objects.filter(username__in=names).order_by("username"))

    def _photo_post(self, rng, author):
        photo = process_photo(
            demo_picture(rng), max_pixels=settings.UPLOAD_MAX_PIXELS, widths=settings.PHOTO_WIDTHS
        )
        return Post.objects.create_with_photo(
            author, photo, caption="Bench photo", alt_text="A generated landscape"
        )
