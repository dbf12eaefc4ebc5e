from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

CAPTION_MAX = 2200
ALT_TEXT_MAX = 300
COMMENT_MAX = 1000


class PostQuerySet(models.QuerySet):
    def page_before(self, cursor, size):
        """One keyset page, newest first: posts with id < cursor, plus whether more exist."""
        posts = self.select_related("author").order_by("-id")
        if cursor is not None:
            posts = posts.filter(id__lt=cursor)
        rows = list(posts[: size + 1])
        return rows[:size], len(rows) > size

    def create_with_photo(self, author, photo, caption="", alt_text=""):
        """Write the photo's files and the row together, or neither.

        Files go first (a row must never point at nothing); if anything fails
        afterwards, the files this call wrote are removed again. Files that
        already existed (the same picture posted before) are shared and kept.
        """
        written = []
        try:
            names = {}
            for variant in photo.variants:
                name = variant.storage_name
                if not default_storage.exists(name):
                    name = default_storage.save(name, ContentFile(variant.data))
                    written.append(name)
                names[variant.width_class] = name
            with transaction.atomic():
                return self.create(
                    author=author,
                    caption=caption,
                    alt_text=alt_text,
                    image_large=names["large"],
                    image_small=names["small"],
                    width=photo.width,
                    height=photo.height,
                    small_width=photo.small_width,
                )
        except BaseException:
            for name in written:
                default_storage.delete(name)
            raise


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="posts")
    caption = models.TextField(max_length=CAPTION_MAX, blank=True)
    alt_text = models.CharField(max_length=ALT_TEXT_MAX, blank=True)
    image_large = models.CharField(max_length=200)
    image_small = models.CharField(max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    small_width = models.PositiveIntegerField()
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["author", "-id"], name="post_author_newest")]

    def __str__(self):
        return f"Post {self.pk} by {self.author}"

    def get_absolute_url(self):
        return reverse("post_detail", args=[self.pk])

    @property
    def large_url(self):
        return default_storage.url(self.image_large)

    @property
    def small_url(self):
        return default_storage.url(self.image_small)

    @property
    def image_names(self):
        return [self.image_large, self.image_small]

    def can_be_changed_by(self, user):
        return user.is_authenticated and user.pk == self.author_id


class Like(models.Model):
    post = models.ForeignKey(Post, models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="one_like_per_user")]

    def __str__(self):
        return f"{self.user} likes {self.post_id}"

    @classmethod
    def toggle(cls, post, user):
        """Like or unlike; returns True when the post is now liked."""
        with transaction.atomic():
            deleted, _ = cls.objects.filter(post=post, user=user).delete()
            if deleted:
                return False
            cls.objects.get_or_create(post=post, user=user)
            return True

    @classmethod
    def mark_liked(cls, user, posts):
        """Set `post.liked` on each post, with one query for the whole page."""
        liked = set()
        if user.is_authenticated and posts:
            ids = [post.pk for post in posts]
            liked = set(
                cls.objects.filter(user=user, post_id__in=ids).values_list("post_id", flat=True)
            )
        for post in posts:
            post.liked = post.pk in liked
        return posts


class Comment(models.Model):
    post = models.ForeignKey(Post, models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="comments")
    body = models.TextField(max_length=COMMENT_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["post", "id"], name="comment_post_order")]

    def __str__(self):
        return f"Comment {self.pk} by {self.author} on {self.post_id}"

    def can_be_deleted_by(self, user):
        """The comment's author, or the author of the post it is on."""
        return user.is_authenticated and user.pk in (self.author_id, self.post.author_id)
