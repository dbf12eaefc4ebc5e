"""Download my data (GDPR art. 20, portability): one zip, built while it is sent.

The archive holds
  photos/<post id>.jpg  each photo as published (the large variant, as stored),
  avatar.jpg            the profile picture, if any (its larger size, as stored),
  data.json             the account, its posts (caption, alt text, dates, counts and the
                        comments on each), the comments it wrote, the likes it gave and
                        the accounts it follows, and the bio,
  index.html            the same, readable in a browser, with the photos beside it.
Dates are ISO 8601 in UTC (index.html shows them readably, in UTC).

Streaming: `zip_chunks()` is a generator; the ZipFile writes into a sink that the
generator empties after each piece, and rows are read a batch at a time (`in_batches`:
`QuerySet.iterator()` reads a whole result at once on MariaDB), so memory stays at one
photo chunk plus one batch of rows whatever the size of the account. Photos are stored
(JPEG does not deflate), text is deflated.
"""

import io
import json
import logging
import zipfile
from datetime import UTC, timedelta

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from extagram.core.batches import each_row, in_batches
from extagram.posts.models import Comment, Like, Post

CHUNK = 64 * 1024
ROWS_PER_QUERY = 1000  # photos, comments written, likes or follows read per statement
POSTS_PER_QUERY = 100  # posts read per statement for data.json and index.html
COMMENTS_PER_QUERY = 1000  # their comments: a batch of posts is read in groups of this many
POST_FIELDS = (
    "pk",
    "created_at",
    "edited_at",
    "caption",
    "alt_text",
    "width",
    "height",
    "like_count",
    "comment_count",
)
log = logging.getLogger(__name__)


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file whose bytes are taken out with `take()`."""

    def __init__(self):
        self._chunks = []
        self._pos = 0

    def writable(self):
        return True

    def write(self, data):
        self._chunks.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self):
        return self._pos

    def take(self):
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _iso(value):
    return value.astimezone(UTC).isoformat() if value else None


AVATAR_NAME = "avatar.jpg"


def photo_name(post_id):
    return f"photos/{post_id}.jpg"


def _posts_with_comments(user):
    """The user's posts, oldest first, each a dict of POST_FIELDS plus "comments": a list
    of (author's username, body, created_at), oldest first.

    Two statements per group of posts: the posts, a batch of POSTS_PER_QUERY, are cut
    into groups whose comment counts add up to at most COMMENTS_PER_QUERY (a post with
    more is a group of its own), and each group's comments are read in one statement.
    """
    posts = Post.objects.filter(author=user).values(*POST_FIELDS)
    for batch in in_batches(posts, POSTS_PER_QUERY):
        group, comments = [], 0
        for post in batch:
            if group and comments + post["comment_count"] > COMMENTS_PER_QUERY:
                yield from _with_comments(group)
                group, comments = [], 0
            group.append(post)
            comments += post["comment_count"]
        yield from _with_comments(group)


def _with_comments(posts):
    by_post = {post["pk"]: post for post in posts}
    for post in posts:
        post["comments"] = []
    # as on the site: a deactivated member's comments are neither shown nor counted
    comments = Comment.objects.filter(post_id__in=by_post, author__is_active=True)
    rows = comments.order_by("id").values_list("post_id", "author__username", "body", "created_at")
    for post_id, *comment in rows:
        by_post[post_id]["comments"].append(comment)
    return posts


# A post's edited_at is its last change (auto_now), so it is set when the post is made too,
# some microseconds after created_at. A change this soon after is the making: the edit page
# is a page load and a form away, seconds at the least.
EDITED_AFTER = timedelta(seconds=1)


def _post_record(post, missing=frozenset()):
    return {
        "id": post["pk"],
        "created_at": _iso(post["created_at"]),
        "edited_at": (
            _iso(post["edited_at"])
            if post["edited_at"] - post["created_at"] >= EDITED_AFTER
            else None
        ),
        "caption": post["caption"],
        "alt_text": post["alt_text"],
        "photo": None if post["pk"] in missing else photo_name(post["pk"]),
        "width": post["width"],
        "height": post["height"],
        "like_count": post["like_count"],
        "comment_count": post["comment_count"],
        "comments": [
            {"author": author, "body": body, "created_at": _iso(created_at)}
            for author, body, created_at in post["comments"]
        ],
    }


def _account_record(user, missing=frozenset()):
    from allauth.account.models import EmailAddress

    profile = getattr(user, "profile", None)
    has_avatar = profile is not None and bool(profile.avatar_large) and AVATAR_NAME not in missing
    return {
        "username": user.username,
        "display_name": profile.display_name if profile else "",
        "bio": profile.bio if profile else "",
        "avatar": AVATAR_NAME if has_avatar else None,
        "emails": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("id")
        ],
        "date_joined": _iso(user.date_joined),
        "exported_at": _iso(timezone.now()),
    }


def _comments_written(user):
    """Lists of at most ROWS_PER_QUERY records of the comments `user` wrote, oldest first."""
    rows = Comment.objects.filter(author=user).values_list("pk", "post_id", "body", "created_at")
    for batch in in_batches(rows, ROWS_PER_QUERY):
        authors = _post_authors(post for _pk, post, _body, _created_at in batch)
        yield [
            {"post": post, "post_author": authors[post], "body": body, "created_at": _iso(created)}
            for _pk, post, body, created in batch
            if post in authors  # else deleted since, with its comments
        ]


def _likes_given(user):
    """Lists of at most ROWS_PER_QUERY records of the likes `user` gave, oldest first."""
    rows = Like.objects.filter(user=user).values_list("pk", "post_id", "created_at")
    for batch in in_batches(rows, ROWS_PER_QUERY):
        authors = _post_authors(post for _pk, post, _created_at in batch)
        yield [
            {"post": post, "post_author": authors[post], "created_at": _iso(created_at)}
            for _pk, post, created_at in batch
            if post in authors  # else deleted since, with its likes
        ]


def _following(user):
    """Lists of at most ROWS_PER_QUERY records of the accounts `user` follows, oldest first."""
    from extagram.social.models import Follow

    rows = Follow.objects.filter(follower=user).values_list("pk", "followee_id", "created_at")
    for batch in in_batches(rows, ROWS_PER_QUERY):
        handles = _handles(followee for _pk, followee, _created_at in batch)
        yield [
            {"username": handles[followee], "since": _iso(created_at)}
            for _pk, followee, created_at in batch
            if followee in handles  # else deleted since, with its follows
        ]


# The sections above read the member's own rows alone (by their index on the member), then
# the handles they name by primary key. One statement joining the two was MariaDB's to
# order: for a member with 20,000 likes it read every member, then each one's posts, then
# the like pair (91,024 rows a batch; docs/performance.md, "Likes and comments by the
# thousand").
def _post_authors(post_ids):
    """{post id: its author's handle} for these post ids (an iterable), by primary key."""
    posts = Post.objects.filter(pk__in=set(post_ids)).order_by()
    return dict(posts.values_list("pk", "author__username"))


def _handles(user_ids):
    """{member id: handle} for these member ids (an iterable), by primary key."""
    members = get_user_model().objects.filter(pk__in=set(user_ids)).order_by()
    return dict(members.values_list("pk", "username"))


def _post_records(user, missing):
    """The user's post records in lists, as the other sections' records come."""
    batch = []
    for post in _posts_with_comments(user):
        batch.append(_post_record(post, missing))
        if len(batch) == POSTS_PER_QUERY:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_json(out, user, account, missing):
    """data.json, written one post / comment / like at a time."""
    out.write(b'{\n"account": ')
    out.write(json.dumps(account, ensure_ascii=False).encode())
    for key, batches in (
        ("posts", _post_records(user, missing)),
        ("comments_written", _comments_written(user)),
        ("likes_given", _likes_given(user)),
        ("following", _following(user)),
    ):
        out.write(f',\n"{key}": ['.encode())
        separator = b"\n"
        for batch in batches:
            for record in batch:
                out.write(separator)
                out.write(json.dumps(record, ensure_ascii=False).encode())
                separator = b",\n"
                yield
        out.write(b"\n]")
    out.write(b"\n}\n")


# index.html's sections after the posts: heading, the lists of records, the template of
# one list's items, and what the section says when it has none (Spanish and Catalan
# "none" agree with what is missing, hence the contexts)
SECTIONS = (
    (
        _("Comments you wrote"),
        _comments_written,
        "accounts/export/comments_written.html",
        pgettext_lazy("no comments", "None."),
    ),
    (
        _("Posts you liked"),
        _likes_given,
        "accounts/export/likes_given.html",
        pgettext_lazy("no posts", "None."),
    ),
    (
        _("Accounts you follow"),
        _following,
        "accounts/export/following.html",
        pgettext_lazy("no accounts", "None."),
    ),
)


def _write_html(out, user, account, missing):
    """index.html: a heading, one rendered section per post, then the comments written,
    likes given and accounts followed, a list of records rendered at a time."""
    context = {"account": account, "LANGUAGE_CODE": translation.get_language()}
    out.write(render_to_string("accounts/export/head.html", context).encode())
    posts_written = 0
    for batch in _post_records(user, missing):
        for post in batch:
            posts_written += 1
            out.write(render_to_string("accounts/export/post.html", {"post": post}).encode())
            yield
    if not posts_written:
        out.write(_none(pgettext_lazy("no posts", "None.")))
    for heading, batches, template, none in SECTIONS:
        out.write(format_html("<h2>{}</h2>\n", heading).encode())
        listed = False
        for batch in batches(user):
            if not listed:
                out.write(b"<ul>")
                listed = True
            out.write(render_to_string(template, {"items": batch}).encode())
            yield
        out.write(b"</ul>\n" if listed else _none(none))
    out.write(b"</body>\n</html>\n")


def _none(text):
    return format_html('<p class="muted">{}</p>\n', text).encode()


def zip_chunks(user, language):
    """Yield the bytes of the archive (see the module docstring), piece by piece, its
    index.html in `language` (a code of settings.LANGUAGES: the one the request was
    answered in; the server reads this generator after the view has returned).

    A post whose photo file cannot be read is still in data.json and index.html,
    with `"photo": null`, rather than breaking the download half-way.
    """
    with translation.override(language):
        yield from _zip_chunks(user)


def _photos(user):
    """(post id, the stored name of its large photo, created_at) of the user's posts."""
    rows = Post.objects.filter(author=user).values_list("pk", "image_large", "created_at")
    return each_row(rows, ROWS_PER_QUERY)


def _zip_chunks(user):
    sink = _Sink()
    missing = set()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for post_id, image_large, created_at in _photos(user):
            try:
                source = default_storage.open(image_large, "rb")
            except OSError:
                log.warning("export for %s: photo of post %s cannot be read", user.pk, post_id)
                missing.add(post_id)
                continue
            info = zipfile.ZipInfo(photo_name(post_id), created_at.timetuple()[:6])
            with source, archive.open(info, "w", force_zip64=True) as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield sink.take()
        profile = getattr(user, "profile", None)
        if profile is not None and profile.avatar_large:
            try:
                with default_storage.open(profile.avatar_large, "rb") as source:
                    archive.writestr(AVATAR_NAME, source.read())  # at most 160 x 160
            except OSError:
                log.warning("export for %s: profile picture cannot be read", user.pk)
                missing.add(AVATAR_NAME)
            yield sink.take()
        account = _account_record(user, missing)
        for name, writer in (("data.json", _write_json), ("index.html", _write_html)):
            info = zipfile.ZipInfo(name, timezone.now().timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as target:
                for _piece in writer(target, user, account, missing):
                    yield sink.take()
            yield sink.take()
    yield sink.take()
