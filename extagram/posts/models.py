import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Exists
from django.db.models.functions import Now
from django.utils import timezone

from extagram.core.reversing import reverse
from extagram.core.statements import CompiledQuery

log = logging.getLogger(__name__)

PHOTOS_DIR = "photos"
SWEEP_BATCH = 500

CAPTION_MAX = 2200
ALT_TEXT_MAX = 300
COMMENT_MAX = 1000


class PostQuerySet(models.QuerySet):
    def page_ids(self, cursor, size):
        """The ids of this queryset's posts with id < cursor (None: from the newest),
        newest first, at most size + 1 of them (the last says whether more exist): one
        statement read from the primary key or the (author, -id) index.

        A page is read in two steps, these ids, then the posts (posts.cards.CardRow.read or
        in_id_order). Not one join: with thousands of members, MariaDB's optimizer starts
        that join from auth_user and sorts every post (250 ms a page at 100,000 posts and
        10,000 members, docs/performance.md).
        """
        ids = self.order_by("-id")
        if cursor is not None:
            ids = ids.filter(id__lt=cursor)
        return list(ids.values_list("id", flat=True)[: size + 1])

    def shown(self):
        """The posts anyone may see: those whose author's account is active (staff
        deactivated the others: their posts leave every list and page until reactivated)."""
        return self.filter(author_is_active=True)

    def using_file(self, name):
        """Posts whose photo is stored under `name` (any size or format); indexed."""
        return self.filter(_any_photo_field(name))

    def create_with_photo(self, author, photo, caption="", alt_text="", submission=None):
        """Store the photo's files and create the post together: a committed post's files exist.

        `photo` is a ProcessedPhoto (`.variants`, each with `storage_name` and `data`;
        the WebP ones are optional: a post without them is shown with its JPEGs).
        Under the files' StoredFile locks (see StoredFile), every file is (re)written
        if it is missing or damaged, then the post's row is inserted, then the transaction
        commits and the locks go: no deletion can remove a file between the check and
        the commit. If anything fails, files that no post uses are released again.

        `submission` (a hex digest, see UploadForm.submission_key) makes a repeat of
        the same form submission return the post the first one created instead of a
        second post: the (author, submission) pair is unique in the database, so this
        holds for repeats that arrive at the same moment too.
        """
        names = [variant.storage_name for variant in photo.variants]
        files = {
            field: photo.variant(width_class, format)
            for field, (width_class, format) in PHOTO_FIELDS.items()
        }
        medium = files["image_medium_webp"]
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    StoredFile.objects.lock(names)
                    for variant in photo.variants:
                        StoredFile.objects.write_if_missing(variant.storage_name, variant.data)
                    return self.create(
                        author=author,
                        caption=caption,
                        alt_text=alt_text,
                        **{field: v.storage_name for field, v in files.items() if v},
                        width=photo.width,
                        height=photo.height,
                        small_width=photo.small_width,
                        medium_width=medium.width if medium else 0,
                        submission=submission,
                    )
            except IntegrityError:
                if submission is None:
                    StoredFile.objects.release(names)
                    raise
                first = self.filter(author=author, submission=submission).first()
                if first is not None:
                    return first
                # The first post of this submission was deleted meanwhile: make it again.
            except BaseException:
                StoredFile.objects.release(names)
                raise
        StoredFile.objects.release(names)
        raise IntegrityError(f"submission {submission} could neither be created nor found")


# The post's stored files: field -> (ProcessedPhoto width class, format). The JPEGs are
# always there; the WebP ones are "" on posts made before them (the page then offers the
# JPEGs alone), or for pictures too tall for WebP; the medium one for pictures narrower
# than its width.
PHOTO_FIELDS = {
    "image_large": ("large", "jpeg"),
    "image_small": ("small", "jpeg"),
    "image_large_webp": ("large", "webp"),
    "image_medium_webp": ("medium", "webp"),
    "image_small_webp": ("small", "webp"),
}


def _any_photo_field(name, lookup="exact"):
    """Q: a post's file field equals `name` (lookup "exact") or is in it ("in")."""
    query = models.Q()
    for field in PHOTO_FIELDS:
        query |= models.Q(**{f"{field}__{lookup}": name})
    return query


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="posts")
    caption = models.TextField(max_length=CAPTION_MAX, blank=True)
    alt_text = models.CharField(max_length=ALT_TEXT_MAX, blank=True)
    image_large = models.CharField(max_length=200)
    image_small = models.CharField(max_length=200)
    # Columns added after the table's first migration have a database default as well
    # (db_default): the version still running during a rolling deploy, or after a
    # rollback, inserts rows without them (MariaDB refuses those, error 1364). Tested by
    # extagram/core/tests/test_rolling_deploys.py.
    image_large_webp = models.CharField(max_length=200, blank=True, default="", db_default="")
    image_medium_webp = models.CharField(max_length=200, blank=True, default="", db_default="")
    image_small_webp = models.CharField(max_length=200, blank=True, default="", db_default="")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    small_width = models.PositiveIntegerField()
    medium_width = models.PositiveIntegerField(default=0, db_default=0)  # 0: no medium file
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(auto_now=True, db_default=Now())
    # The author's User.is_active, copied (posts.signals.activity_changed) so that a
    # page of posts leaves a deactivated member's out without joining the users' table,
    # which made MariaDB sort every post (PostQuerySet.page_ids).
    author_is_active = models.BooleanField(default=True, db_default=True, editable=False)
    # Digest of the upload form submission that created the post: a repeated submission
    # finds this post instead of making a second one. NULL (not "") for posts made
    # otherwise, as NULLs never collide in the unique constraint (on every backend; MySQL
    # has no partial unique indexes).
    submission = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["author", "-id"], name="post_author_newest"),
            # "does any post still use this file?" on every deletion and sweep
            models.Index(fields=["image_large"], name="post_image_large"),
            models.Index(fields=["image_small"], name="post_image_small"),
            models.Index(fields=["image_large_webp"], name="post_image_large_webp"),
            models.Index(fields=["image_medium_webp"], name="post_image_medium_webp"),
            models.Index(fields=["image_small_webp"], name="post_image_small_webp"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["author", "submission"], name="one_post_per_submission")
        ]

    def __str__(self):
        return f"Post {self.pk} by {self.author}"

    def save(self, *args, update_fields=None, **kwargs):
        """Save, copying the author's is_active when the author may have changed (a new
        post, or staff giving a post to another member in the admin). A new post's copy is
        read again from the database after the insert, in its transaction: an upload takes
        seconds, and staff may deactivate its member meanwhile (the `author` it was given
        was read before; posts.signals.activity_changed then found no such post)."""
        adding = self._state.adding
        if update_fields is None or "author" in update_fields:
            self.author_is_active = self.author.is_active
            if update_fields is not None:
                update_fields = {*update_fields, "author_is_active"}
        super().save(*args, update_fields=update_fields, **kwargs)
        if adding:
            active = get_user_model().objects.filter(pk=self.author_id, is_active=True)
            Post.objects.filter(pk=self.pk).update(author_is_active=Exists(active))

    def get_absolute_url(self):
        return reverse("post_detail", args=[self.pk])

    @classmethod
    def in_id_order(cls, ids):
        """The posts with these ids (a list of ints), with their authors and profiles, in
        the order of `ids`; ids with no post (deleted meanwhile) are left out. One statement,
        compiled once (_POSTS_WITH_AUTHORS)."""
        by_id = {post.pk: post for post in _POSTS_WITH_AUTHORS.instances(list(ids))}
        return [by_id[pk] for pk in ids if pk in by_id]

    @classmethod
    def lock_counters(cls, post_id):
        """Hold the post row's write lock until the current transaction ends.

        Call it inside transaction.atomic(), before inserting or deleting a like or a
        comment. The insert takes a shared lock on the post's row (InnoDB checks the
        foreign key under a shared lock) and the like/comment counter update that follows
        (posts/signals.py) needs an exclusive one: two such writes at once each hold the
        shared lock and wait for the other's, a deadlock (MariaDB error 1213; InnoDB's
        lock modes: https://mariadb.com/kb/en/innodb-lock-modes/). Taking the exclusive
        lock first queues them instead. A no-op on SQLite, whose writers queue anyway.
        """
        list(cls.objects.select_for_update().filter(pk=post_id).values_list("pk", flat=True))

    @property
    def large_url(self):
        return default_storage.url(self.image_large)

    @property
    def small_url(self):
        return default_storage.url(self.image_small)

    @property
    def webp_srcset(self):
        """The `srcset` of the post's WebP files ("" for a post that has none)."""
        if not self.image_large_webp:
            return ""
        candidates = [(self.image_small_webp, self.small_width)]
        if self.image_medium_webp:
            candidates.append((self.image_medium_webp, self.medium_width))
        candidates.append((self.image_large_webp, self.width))
        return srcset(candidates)

    @property
    def jpeg_srcset(self):
        """The `srcset` of the post's JPEG files."""
        return srcset([(self.image_small, self.small_width), (self.image_large, self.width)])

    @property
    def small_webp_url(self):
        return default_storage.url(self.image_small_webp) if self.image_small_webp else ""

    @property
    def image_names(self):
        """Every stored file of the post (its JPEGs and WebPs)."""
        return [name for field in PHOTO_FIELDS if (name := getattr(self, field))]

    def can_be_changed_by(self, user):
        return user.is_authenticated and user.pk == self.author_id


def srcset(candidates):
    """A `srcset` attribute's value from (storage name, width in pixels) pairs, narrowest
    first. A candidate whose width is already listed is left out: a photo no wider than
    the small size has every file at one width, and HTML forbids two candidates with the
    same width descriptor (https://html.spec.whatwg.org/multipage/images.html#srcset-attributes)."""
    listed = {}
    for name, width in candidates:
        listed.setdefault(width, name)
    return ", ".join(f"{default_storage.url(name)} {width}w" for width, name in listed.items())


class Like(models.Model):
    post = models.ForeignKey(Post, models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="one_like_per_user")]

    def __str__(self):
        return f"{self.user} likes {self.post_id}"

    @classmethod
    def toggle(cls, post, user, like=None):
        """Like (`like` True) or unlike (False) `post` for `user`, whatever it was, so the
        same request sent twice (a double click, a browser's retry, a page left open from
        before) does what it said once; None likes it if not liked and unlikes it if
        liked. Returns True when the post is now liked."""
        with transaction.atomic():
            Post.lock_counters(post.pk)
            mine = cls.objects.filter(post=post, user=user)
            if like is None:
                like = not mine.exists()
            if like:
                cls.objects.get_or_create(post=post, user=user)
            else:
                mine.delete()
            return like

    @classmethod
    def mark_liked(cls, user, posts):
        """Set `post.liked` on each post, with one statement for the whole page (compiled
        once: _LIKED)."""
        liked = set()
        if user.is_authenticated and posts:
            liked = {post_id for (post_id,) in _LIKED.rows(user.pk, [post.pk for post in posts])}
        for post in posts:
            post.liked = post.pk in liked
        return posts


class Comment(models.Model):
    post = models.ForeignKey(Post, models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="comments")
    body = models.TextField(max_length=COMMENT_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    # Digest of the comment form's submission (core.forms.submission_digest): a repeat
    # finds this comment instead of adding a second one. NULL for comments made
    # otherwise, as for Post.submission.
    submission = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["post", "id"], name="comment_post_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "submission"], name="one_comment_per_submission"
            )
        ]

    def __str__(self):
        return f"Comment {self.pk} by {self.author} on {self.post_id}"

    def can_be_deleted_by(self, user):
        """The comment's author, or the author of the post it is on."""
        return self.deletable(user.pk, self.author_id, self.post.author_id)

    @staticmethod
    def deletable(user_id, author_id, post_author_id):
        """Whether the member `user_id` (None: signed out) may delete a comment by the
        member `author_id` on a post by the member `post_author_id`: the comment's author
        or the post's may."""
        return user_id is not None and user_id in (author_id, post_author_id)

    @classmethod
    def add(cls, post, author, body, submission=None):
        """Comment on `post`; returns the new Comment (the post's count follows).

        `submission` (a hex digest, core.forms.submission_digest) makes a repeat of the
        same form submission return the comment the first one added: repeats queue on
        the post's lock and find it, and the (author, submission) pair is unique in the
        database besides.
        """
        try:
            with transaction.atomic():
                Post.lock_counters(post.pk)
                first = cls._of_submission(author, submission)
                if first is not None:
                    return first
                return cls.objects.create(
                    post=post, author=author, body=body, submission=submission
                )
        except IntegrityError:
            first = cls._of_submission(author, submission)
            if first is None:
                raise
            return first

    @classmethod
    def _of_submission(cls, author, submission):
        if submission is None:
            return None
        return cls.objects.filter(author=author, submission=submission).first()

    def remove(self):
        """Delete this comment (the post's count follows)."""
        with transaction.atomic():
            Post.lock_counters(self.post_id)
            self.delete()

    @classmethod
    def in_id_order(cls, ids):
        """The comments with these ids (a list of ints), each with its author and the
        author's profile, in the order of `ids`; ids with no comment are left out. One
        statement, compiled once (_COMMENTS_WITH_AUTHORS)."""
        by_id = {comment.pk: comment for comment in _COMMENTS_WITH_AUTHORS.instances(list(ids))}
        return [by_id[pk] for pk in ids if pk in by_id]


# The statements of a post page and a profile's grid (extagram.core.statements).
_POSTS_WITH_AUTHORS = CompiledQuery(
    lambda ids: Post.objects.select_related("author__profile").filter(pk__in=ids)
)
_COMMENTS_WITH_AUTHORS = CompiledQuery(
    lambda ids: Comment.objects.select_related("author__profile").filter(pk__in=ids)
)
_LIKED = CompiledQuery(
    lambda user_id, ids: Like.objects.filter(user_id=user_id, post_id__in=ids).values_list(
        "post_id"
    )
)


class StoredFileManager(models.Manager):
    def lock(self, names):
        """Lock the rows of these file names until the current transaction ends.

        Creates the rows that are missing and sets `touched_at` to now, in one
        upsert (INSERT ... ON DUPLICATE KEY UPDATE on MariaDB/MySQL, INSERT ... ON
        CONFLICT DO UPDATE on SQLite), which takes an exclusive lock on each row,
        existing or new. Names are locked in sorted order, the same in every caller,
        so two lockers never wait for each other in a cycle. Call it inside
        transaction.atomic().
        """
        now = timezone.now()
        rows = [self.model(name=name, touched_at=now) for name in sorted(set(names))]
        options = {"update_conflicts": True, "update_fields": ["touched_at"]}
        if connections[self.db].features.supports_update_conflicts_with_target:
            options["unique_fields"] = ["name"]
        self.bulk_create(rows, **options)

    def write_if_missing(self, name, data):
        """Make storage hold exactly `data` under `name`; the caller holds the name's lock.

        A file that is missing, or whose bytes differ (e.g. cut short by a crash in
        the middle of an earlier write), is written again. Returns True if it wrote.
        """
        if default_storage.exists(name):
            with default_storage.open(name) as stored:
                if stored.read() == data:
                    return False
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:
            # Only a writer that ignores the lock could have made `name` meanwhile.
            default_storage.delete(saved)
            raise RuntimeError(f"{name} was written by someone not holding its lock")
        return True

    def release(self, names):
        """Delete each of these files that no committed post uses; return the names deleted.

        One short transaction for them all (a caller passes one post's or one picture's
        names): lock their rows, read which of them a post or a profile picture refers
        to (file_in_use), delete the others' files, then their rows. If that fails, each
        name is tried again in a transaction of its own, so one file's error keeps no
        other file. Errors are logged, not raised (the post deletion that calls this has
        already committed; the sweep retries). A transaction a name took 3.9-6.4 ms each
        in-process, five or six names a post (docs/performance.md, "An account's
        deletion").
        """
        names = sorted(set(names))
        if not names:
            return []
        try:
            return self._release_together(names)
        except Exception:
            if len(names) == 1:
                log.exception("could not release %s; the media sweep will retry", names[0])
                return []
            log.warning("could not release %s together; one at a time", names, exc_info=True)
        deleted = []
        for name in names:
            try:
                deleted += self._release_together([name])
            except Exception:
                log.exception("could not release %s; the media sweep will retry", name)
        return deleted

    def _release_together(self, names):
        with transaction.atomic(using=self.db):
            self.lock(names)
            # a name at a time: its two reads stop at the first post or picture using it,
            # where one read for all would count every post sharing a much-used picture
            free = [name for name in names if not file_in_use(name)]
            for name in free:
                default_storage.delete(name)
            self.filter(name__in=free).delete()
        return free

    def sweep(self, grace, dry_run=False):
        """Delete photo files and rows that no post uses and nothing touched for `grace` seconds.

        What it finds is what crashes leave behind (see StoredFile): rows with no post
        (and their files, if any), then files with neither post nor row. Each is removed
        under the same lock as in `release`, after checking again, so a sweep is safe at
        any moment and beside any number of other sweeps. Rows are read, and storage is
        listed, a batch (one `photos/xx/` folder) at a time, so memory stays small
        whatever the number of files (bench/media_sweep.py).

        Returns {"files": stored files checked, "rows": rows checked (both: those not
        touched for `grace` seconds), "deleted": [names] (with dry_run, the names that
        would be deleted), "failed": [names whose deletion raised (logged; the next
        sweep retries)]}.
        """
        cutoff = timezone.now() - timedelta(seconds=grace)
        report = {"files": 0, "rows": 0, "deleted": [], "failed": []}
        last = ""
        while True:
            old_rows = self.filter(touched_at__lt=cutoff, name__gt=last).order_by("name")
            batch = list(old_rows.values_list("name", flat=True)[:SWEEP_BATCH])
            if not batch:
                break
            report["rows"] += len(batch)
            last = batch[-1]
            used = _names_in_use(batch)
            for name in batch:
                if name not in used:
                    self._sweep_one(name, cutoff, dry_run, report)
        swept = set(report["deleted"])
        for batch in _stored_files_older_than(cutoff):
            report["files"] += len(batch)
            with_rows = set(self.filter(name__in=batch).values_list("name", flat=True))
            rowless = [name for name in batch if name not in with_rows and name not in swept]
            used = _names_in_use(rowless) if rowless else set()
            for name in rowless:
                if name not in used:
                    self._sweep_one(name, cutoff, dry_run, report)
        return report

    def _sweep_one(self, name, cutoff, dry_run, report):
        if dry_run:
            report["deleted"].append(name)
            return
        try:
            with transaction.atomic(using=self.db):
                row = self.select_for_update().filter(name=name).first()
                if row is not None and row.touched_at >= cutoff:
                    return
                self.lock([name])
                if file_in_use(name):
                    return
                default_storage.delete(name)
                self.filter(name=name).delete()
        except Exception:
            # e.g. a file the process may not delete: the rest of the sweep goes on
            log.exception("media sweep: could not delete %s", name)
            report["failed"].append(name)
            return
        report["deleted"].append(name)


def _stored_files_older_than(cutoff):
    """Names under photos/, one folder's worth per list, of files last written before cutoff."""
    try:
        folders, _files = default_storage.listdir(PHOTOS_DIR)
    except FileNotFoundError:
        return
    for folder in sorted(folders):
        try:
            _dirs, files = default_storage.listdir(f"{PHOTOS_DIR}/{folder}")
        except FileNotFoundError:
            continue
        names = []
        for file_name in files:
            name = f"{PHOTOS_DIR}/{folder}/{file_name}"
            try:
                if default_storage.get_modified_time(name) < cutoff:
                    names.append(name)
            except FileNotFoundError:
                continue
        if names:
            yield names


def file_in_use(name):
    """Whether a committed post or profile picture refers to the stored file `name`.

    Two indexed reads. Callers hold the name's StoredFile lock (see StoredFile).
    """
    Profile = apps.get_model("accounts", "Profile")
    return (
        Post.objects.using_file(name).exists()
        or Profile.objects.filter(
            models.Q(avatar_large=name) | models.Q(avatar_small=name)
        ).exists()
    )


def _names_in_use(names):
    used = set()
    rows = Post.objects.filter(_any_photo_field(names, "in"))
    for row in rows.values_list(*PHOTO_FIELDS):
        used.update(row)
    Profile = apps.get_model("accounts", "Profile")
    avatars = Profile.objects.filter(
        models.Q(avatar_large__in=names) | models.Q(avatar_small__in=names)
    )
    for large, small in avatars.values_list("avatar_large", "avatar_small"):
        used.update((large, small))
    return used


class StoredFile(models.Model):
    """One row per photo file in storage: the lock that makes sharing files safe.

    Photos are stored under the SHA-256 of their bytes, so posts of the same picture
    share files, and a deletion must never remove a file that another committed post
    uses. Profile pictures (accounts.Profile.avatar_*) are stored and locked the same
    way, and count as users of a file just like posts (`file_in_use`).
    The rule: a file is written (if missing) and a post referring to it is
    inserted only while its row is locked, in the same transaction; a file is deleted
    only while its row is locked, after checking in the database that no post refers
    to it. Locking is `StoredFileManager.lock` (an upsert: exclusive row locks on
    MariaDB/InnoDB; on SQLite, transactions begin IMMEDIATE, so the write lock on the
    whole database is held from BEGIN to COMMIT and the same holds trivially).

    Why no interleaving loses a file, with P the poster's transaction and D the
    deleter's (D runs after the deleted post's row is gone, in a new transaction):
    - D locks first: D sees no post using the name, deletes the file, commits; P then
      gets the lock, finds the file missing and writes it again before its insert.
    - P locks first: P makes sure the file exists, inserts its post and commits; only
      then does D get the lock, and its check (a fresh read: Django's MySQL default
      is READ COMMITTED, and under REPEATABLE READ the first plain read comes after
      the lock) sees P's post and keeps the file.
    - Two posters: the second waits, then finds the file already there.
    Crash points (the process dies, the database rolls back what was not committed):
    - P dies after writing a file, before its commit: the row it created (or its
      `touched_at`) is rolled back; the file is referenced by nobody and removed by
      the sweep, which takes the same lock, so it can never race with a live P.
    - A file cut short by a crash is written again by the next poster (content check).
    - D dies after the post's deletion committed, before its own commit: the file
      stays, unreferenced; the sweep deletes it (privacy: later than usual, not never).
    - D dies after deleting the file, before deleting the row: the row stays (rolled
      back) with no file and no post; harmless (a poster rewrites the file), swept.

    The sweep (`sweep`, run periodically by the upload role and `purge_orphan_media`)
    leaves alone anything touched within its grace period: files written by an older
    version of the app during a rolling upgrade do not follow this rule yet.
    """

    name = models.CharField(max_length=200, primary_key=True)
    touched_at = models.DateTimeField(default=timezone.now)

    objects = StoredFileManager()

    def __str__(self):
        return self.name
