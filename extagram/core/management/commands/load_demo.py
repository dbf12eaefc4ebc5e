import io
import random
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw

from extagram.posts.models import Comment, Like, Post
from extagram.uploads.images import process_photo

USERS = ["ana", "bruno", "carla", "dani"]
CAPTIONS = [
    "Sunset over Barceloneta 🌅",
    "Study break at the library",
    "Montjuïc from the cable car",
    "Best coffee near campus ☕",
    "Sea, sky and nothing else",
    "Weekend hike in Collserola",
    "Rainy day in the Gothic Quarter",
    "First day of the semester!",
]
COMMENTS = ["Love this!", "Where is this?", "Qué bonito 😍", "Quina passada!", "Nice colours"]


def demo_picture(rng, width=1200, height=900):
    """A generated landscape: sky gradient, sun, sea and hills."""
    top = tuple(rng.randint(40, 255) for _ in range(3))
    bottom = tuple(rng.randint(0, 200) for _ in range(3))
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        color = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=color)
    sun_x, sun_y, r = (
        rng.randint(100, width - 100),
        rng.randint(80, height // 2),
        rng.randint(40, 110),
    )
    draw.ellipse([sun_x - r, sun_y - r, sun_x + r, sun_y + r], fill=(255, 220, 120))
    horizon = rng.randint(height // 2, height * 3 // 4)
    points = [(0, height)] + [(x, horizon - rng.randint(0, 160)) for x in range(0, width + 1, 150)]
    draw.polygon(points + [(width, height)], fill=tuple(rng.randint(10, 90) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    buffer.seek(0)
    return buffer


class Command(BaseCommand):
    help = "Create a few demo users with generated photos, likes and comments."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=12, help="how many posts (default 12)")
        parser.add_argument(
            "--password", help="password for the demo users (default: random, printed)"
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo content with EXTAGRAM_ENV=production.")
        rng = random.Random(options["seed"])
        password = options["password"] or secrets.token_urlsafe(9)
        users = []
        for name in USERS:
            user, created = get_user_model().objects.get_or_create(username=name)
            if created:
                user.set_password(password)
                user.save()
            users.append(user)
        # The demo members follow each other, so each one's home feed has everyone's posts.
        from extagram.social.models import Follow

        for follower in users:
            for followee in users:
                if follower != followee:
                    Follow.follow(follower, followee)

        for i in range(options["posts"]):
            photo = process_photo(
                demo_picture(rng),
                max_pixels=settings.UPLOAD_MAX_PIXELS,
                widths=settings.PHOTO_WIDTHS,
            )
            post = Post.objects.create_with_photo(
                author=users[i % len(users)],
                photo=photo,
                caption=CAPTIONS[i % len(CAPTIONS)],
                alt_text="A generated landscape with a sun over hills",
            )
            for fan in rng.sample(users, rng.randint(0, len(users))):
                Like.objects.get_or_create(post=post, user=fan)
            for _ in range(rng.randint(0, 3)):
                Comment.objects.create(
                    post=post, author=rng.choice(users), body=rng.choice(COMMENTS)
                )

        self.stdout.write(self.style.SUCCESS(f"Created {options['posts']} posts."))
        self.stdout.write(f"Demo users: {', '.join(USERS)} (new ones get password: {password})")
