"""Download my data (GDPR art. 20, portability): one zip, built while it is sent.

The archive holds
  photos/<post id>.jpg  each photo as published (the large variant, as stored),
  avatar.jpg            the profile picture, if any (its larger size, as stored),
  data.json             the account, its posts (caption, alt text, dates, counts and the
                        comments on each), the comments it wrote, the likes it gave and
                        the accounts it follows, and the bio,
  index.html            the same, readable in a browser, with the photos beside it.
Dates are ISO 8601 in UTC (index.html shows them readably, in UTC).

Streaming: `zip_chunks()` is a generator; the ZipFile writes into a sink that
the generator empties after each piece, so memory stays at one photo chunk plus
one post's text whatever the size of the account. Photos are stored (JPEG does
not deflate), text is deflated.
"""

import io
import json
import logging
import zipfile
from datetime import UTC, timedelta

from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation

from extagram.posts.models import Comment, Like, Post

CHUNK = 64 * 1024
POSTS_PER_QUERY = 100  # posts (with their comments) read per round trip
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


def photo_name(post):
    return f"photos/{post.pk}.jpg"


def _posts(user):
    return Post.objects.filter(author=user).order_by("id")


def _posts_with_comments(user):
    """The user's posts, oldest first, each with its comments read in the same batch
    (two queries per POSTS_PER_QUERY posts rather than one per post)."""
    # as on the site: a deactivated member's comments are neither shown nor counted
    comments = Comment.objects.filter(author__is_active=True).select_related("author")
    comments = comments.order_by("id")
    posts = _posts(user).prefetch_related(Prefetch("comments", queryset=comments))
    return posts.iterator(chunk_size=POSTS_PER_QUERY)


# A post's edited_at is its last change (auto_now), so it is set when the post is made too,
# some microseconds after created_at. A change this soon after is the making: the edit page
# is a page load and a form away, seconds at the least.
EDITED_AFTER = timedelta(seconds=1)


def _post_record(post, missing=frozenset()):
    comments = post.comments.all()
    return {
        "id": post.pk,
        "created_at": _iso(post.created_at),
        "edited_at": (
            _iso(post.edited_at) if post.edited_at - post.created_at >= EDITED_AFTER else None
        ),
        "caption": post.caption,
        "alt_text": post.alt_text,
        "photo": None if post.pk in missing else photo_name(post),
        "width": post.width,
        "height": post.height,
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "comments": [
            {"author": c.author.username, "body": c.body, "created_at": _iso(c.created_at)}
            for c in comments
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
    comments = Comment.objects.filter(author=user).select_related("post__author").order_by("id")
    for c in comments.iterator():
        yield {
            "post": c.post_id,
            "post_author": c.post.author.username,
            "body": c.body,
            "created_at": _iso(c.created_at),
        }


def _likes_given(user):
    likes = Like.objects.filter(user=user).select_related("post__author").order_by("id")
    for like in likes.iterator():
        yield {
            "post": like.post_id,
            "post_author": like.post.author.username,
            "created_at": _iso(like.created_at),
        }


def _following(user):
    from extagram.social.models import Follow

    follows = Follow.objects.filter(follower=user).select_related("followee").order_by("id")
    for follow in follows.iterator():
        yield {"username": follow.followee.username, "since": _iso(follow.created_at)}


def _write_json(out, user, account, missing):
    """data.json, written one post / comment / like at a time."""
    out.write(b'{\n"account": ')
    out.write(json.dumps(account, ensure_ascii=False).encode())
    for key, records in (
        ("posts", (_post_record(p, missing) for p in _posts_with_comments(user))),
        ("comments_written", _comments_written(user)),
        ("likes_given", _likes_given(user)),
        ("following", _following(user)),
    ):
        out.write(f',\n"{key}": ['.encode())
        for n, record in enumerate(records):
            out.write(b",\n" if n else b"\n")
            out.write(json.dumps(record, ensure_ascii=False).encode())
            yield
        out.write(b"\n]")
    out.write(b"\n}\n")


def _write_html(out, user, account, missing):
    """index.html: a heading, then one rendered section per post, comments and likes."""
    context = {"account": account, "LANGUAGE_CODE": translation.get_language()}
    out.write(render_to_string("accounts/export/head.html", context).encode())
    posts_written = 0
    for post in _posts_with_comments(user):
        posts_written += 1
        out.write(
            render_to_string(
                "accounts/export/post.html", {"post": _post_record(post, missing)}
            ).encode()
        )
        yield
    context = {
        "posts_written": posts_written,
        "comments": list(_comments_written(user)),
        "likes": list(_likes_given(user)),
        "following": list(_following(user)),
    }
    out.write(render_to_string("accounts/export/tail.html", context).encode())


def zip_chunks(user, language):
    """Yield the bytes of the archive (see the module docstring), piece by piece, its
    index.html in `language` (a code of settings.LANGUAGES: the one the request was
    answered in; the server reads this generator after the view has returned).

    A post whose photo file cannot be read is still in data.json and index.html,
    with `"photo": null`, rather than breaking the download half-way.
    """
    with translation.override(language):
        yield from _zip_chunks(user)


def _zip_chunks(user):
    sink = _Sink()
    missing = set()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for post in _posts(user).iterator():
            try:
                source = default_storage.open(post.image_large, "rb")
            except OSError:
                log.warning("export for %s: photo of post %s cannot be read", user.pk, post.pk)
                missing.add(post.pk)
                continue
            info = zipfile.ZipInfo(photo_name(post), post.created_at.timetuple()[:6])
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
                for _ in writer(target, user, account, missing):
                    yield sink.take()
            yield sink.take()
    yield sink.take()
