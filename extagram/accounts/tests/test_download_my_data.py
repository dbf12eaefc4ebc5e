"""Download my data: the zip holds the photos as published, data.json and index.html."""

import io
import json
import tracemalloc
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.formats import date_format

from extagram.posts.models import PHOTO_FIELDS, Comment, Like, Post
from extagram.social.models import Follow
from extagram.testing.base import PASSWORD, BaseTestCase


class DownloadMyDataTests(BaseTestCase):
    def setUp(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})

    def download(self):
        response = self.client.post("/accounts/export/")
        self.assertEqual(response.status_code, 200)
        self.assertIsInstance(response, StreamingHttpResponse)
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn('attachment; filename="extagram-alice-', response["Content-Disposition"])
        return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))

    def test_the_archive_holds_what_the_site_shows(self):
        first = self.make_post(caption="Platja <b>de</b> la Barceloneta\nsegona línia")
        second = self.make_post(caption="")
        theirs = self.make_post(author=self.stranger, caption="bob's")
        Comment.objects.create(post=first, author=self.stranger, body="Preciosa!")
        Comment.objects.create(post=theirs, author=self.owner, body="Què bonic")
        Like.toggle(theirs, self.owner)
        Like.toggle(first, self.stranger)
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)
        self.owner.profile.display_name = "Alícia Puig"
        self.owner.profile.bio = "Fotos del mar"
        self.owner.profile.save()
        Follow.follow(self.owner, self.stranger)

        archive = self.download()
        self.assertIsNone(archive.testzip())
        names = set(archive.namelist())
        self.assertEqual(
            names,
            {f"photos/{first.pk}.jpg", f"photos/{second.pk}.jpg", "data.json", "index.html"},
        )
        for post in (first, second):
            with default_storage.open(post.image_large) as published:
                self.assertEqual(archive.read(f"photos/{post.pk}.jpg"), published.read())

        data = json.loads(archive.read("data.json"))
        self.assertEqual(data["account"]["username"], "alice")
        self.assertEqual(data["account"]["display_name"], "Alícia Puig")
        self.assertEqual(data["account"]["emails"][0]["email"], "alice@example.com")
        posts = {p["id"]: p for p in data["posts"]}
        self.assertEqual(set(posts), {first.pk, second.pk})
        self.assertEqual(posts[first.pk]["caption"], first.caption)
        self.assertEqual(posts[first.pk]["created_at"], first.created_at.isoformat())
        self.assertEqual(posts[first.pk]["like_count"], 1)
        self.assertEqual(
            [(c["author"], c["body"]) for c in posts[first.pk]["comments"]], [("bob", "Preciosa!")]
        )
        self.assertEqual(
            [(c["post"], c["body"]) for c in data["comments_written"]], [(theirs.pk, "Què bonic")]
        )
        self.assertEqual([like["post"] for like in data["likes_given"]], [theirs.pk])
        self.assertEqual([f["username"] for f in data["following"]], ["bob"])
        self.assertNotIn("bob's", json.dumps(data["posts"]))

        html = archive.read("index.html").decode()
        self.assertIn("Alícia Puig", html)
        self.assertIn("Platja &lt;b&gt;de&lt;/b&gt; la Barceloneta<br>segona línia", html)
        self.assertIn(f'src="photos/{first.pk}.jpg"', html)
        self.assertIn("Què bonic", html)
        self.assertNotIn("<b>de</b>", html)
        # The readable copy has what data.json has: the bio, who the member follows, and
        # dates a person reads (the ISO form stays in the datetime attribute).
        self.assertIn("Fotos del mar", html)
        self.assertIn("Accounts you follow", html)
        self.assertIn("@bob", html)
        created = first.created_at
        self.assertIn(f'datetime="{created.isoformat()}"', html)
        self.assertIn(f"{date_format(created, 'DATETIME_FORMAT')} UTC", html)
        self.assertNotIn(f">{created.isoformat()}<", html)

    def test_a_deactivated_members_comments_are_neither_listed_nor_counted(self):
        post = self.make_post(caption="mine")
        Comment.objects.create(post=post, author=self.stranger, body="from bob")
        Comment.objects.create(post=post, author=self.staff, body="from sam")
        self.stranger.is_active = False
        self.stranger.save()
        record = json.loads(self.download().read("data.json"))["posts"][0]
        self.assertEqual([c["author"] for c in record["comments"]], ["sam"])
        self.assertEqual(record["comment_count"], 1)

    def test_only_an_edited_post_has_an_edit_time(self):
        kept, edited = self.make_post(caption="as posted"), self.make_post(caption="first")
        later = edited.created_at + timedelta(minutes=3)
        with mock.patch("django.utils.timezone.now", return_value=later):
            self.client.post(f"/p/{edited.pk}/edit/", {"caption": "second", "alt_text": ""})
        posts = {p["id"]: p for p in json.loads(self.download().read("data.json"))["posts"]}
        self.assertIsNone(posts[kept.pk]["edited_at"])
        self.assertEqual(posts[edited.pk]["caption"], "second")
        self.assertEqual(posts[edited.pk]["edited_at"], later.isoformat())

    def test_a_lost_photo_file_does_not_break_the_download(self):
        kept, lost = self.make_post(caption="kept"), self.make_post(caption="lost")
        default_storage.delete(lost.image_large)
        archive = self.download()
        self.assertEqual(
            set(archive.namelist()), {f"photos/{kept.pk}.jpg", "data.json", "index.html"}
        )
        posts = {p["id"]: p for p in json.loads(archive.read("data.json"))["posts"]}
        self.assertEqual(
            (posts[kept.pk]["photo"], posts[lost.pk]["photo"]), (f"photos/{kept.pk}.jpg", None)
        )
        self.assertIn("could not be read", archive.read("index.html").decode())

    def test_a_lost_profile_picture_is_not_pointed_at(self):
        profile = self.owner.profile
        profile.avatar_large = "photos/00/" + "0" * 64 + ".jpg"  # no such file
        profile.save()
        archive = self.download()
        self.assertNotIn("avatar.jpg", archive.namelist())
        self.assertIsNone(json.loads(archive.read("data.json"))["account"]["avatar"])
        self.assertNotIn('src="avatar.jpg"', archive.read("index.html").decode())

    def test_an_empty_account_still_gets_a_valid_archive(self):
        archive = self.download()
        self.assertEqual(set(archive.namelist()), {"data.json", "index.html"})
        self.assertEqual(json.loads(archive.read("data.json"))["posts"], [])

    def test_the_index_is_in_the_language_the_member_asked_for(self):
        self.make_post()
        response = self.client.post("/accounts/export/", headers={"accept-language": "ca"})
        translation.activate("en")  # the server reads the stream later, in any language
        index = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        html = index.read("index.html").decode()
        self.assertIn('<html lang="ca">', html)
        self.assertIn("Dades d'Extagram de @alice", html)

    def test_an_empty_section_says_so_in_each_language_with_its_gender_and_dates_as_written(
        self,
    ):
        # Spanish said "Ninguno." after "Publicaciones que te gustaron" (feminine), the posts
        # section said nothing, and dates read "2 Dic 2026"
        expected = {
            "es": ["Ninguna.", "Ninguno.", "Ninguna.", "Ninguna.", " de 20"],
            "ca": ["Cap.", "Cap.", "Cap.", "Cap.", " de 20"],
            "en": ["None.", "None.", "None.", "None.", ", 20"],
        }
        for language, (posts, comments, likes, follows, date) in expected.items():
            response = self.client.post("/accounts/export/", headers={"accept-language": language})
            translation.activate("en")
            archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
            html = archive.read("index.html").decode()
            sections = html.split("<h2>")[1:]
            self.assertEqual(len(sections), 4, language)
            empty = [section.split('<p class="muted">')[1].split("</p>")[0] for section in sections]
            self.assertEqual(empty, [posts, comments, likes, follows], language)
            joined = html.split("<time")[1].split("</time>")[0]
            self.assertIn(date, joined, language)

    def test_the_page_explains_and_the_download_needs_a_post(self):
        response = self.client.get("/accounts/export/")
        self.assertContains(response, "data.json")
        self.assertContains(response, "csrfmiddlewaretoken")

    def test_it_streams_in_pieces_rather_than_one_body(self):
        for _ in range(3):
            self.make_post()
        response = self.client.post("/accounts/export/")
        pieces = [piece for piece in response.streaming_content if piece]
        self.assertGreater(len(pieces), 3)

    def test_the_export_takes_the_same_queries_for_2_and_12_commented_posts(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def commented_post():
            post = self.make_post()
            Comment.objects.create(post=post, author=self.stranger, body="Bonica")

        for _ in range(2):
            commented_post()
        with CaptureQueriesContext(connection) as small:
            self.download()
        for _ in range(10):
            commented_post()
        with CaptureQueriesContext(connection) as large:
            self.download()
        self.assertEqual(len(small), len(large))

    def test_the_likes_comments_and_follows_are_read_without_a_join(self):
        # joined to their posts' authors, MariaDB read a member with 20,000 likes from
        # every member's side: 91,024 rows a batch of 1,000
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        post = self.make_post(self.stranger)
        Like.toggle(post, self.owner)
        Comment.objects.create(post=post, author=self.owner, body="Bonica")
        Follow.follow(self.owner, self.stranger)
        with CaptureQueriesContext(connection) as captured:
            data = json.loads(self.download().read("data.json"))
        self.assertEqual(data["likes_given"][0]["post_author"], "bob")
        self.assertEqual(data["comments_written"][0]["post_author"], "bob")
        self.assertEqual(data["following"][0]["username"], "bob")
        for table in ("posts_like", "posts_comment", "social_follow"):
            own_rows = [
                q["sql"] for q in captured if f"FROM {connection.ops.quote_name(table)}" in q["sql"]
            ]
            self.assertTrue(own_rows, table)
            for sql in own_rows:
                self.assertNotIn("JOIN", sql)


@pytest.mark.ratelimit
class DownloadRateLimitTests(BaseTestCase):
    def test_a_fourth_download_within_the_hour_is_refused(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        statuses = [self.client.post("/accounts/export/").status_code for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])


class DownloadMemoryTests(BaseTestCase):
    """A big account's archive is built in the memory of a small one.

    The app tier's replicas have 128 MB. A member with 10,000 posts and 30,000 likes once
    took 97 MiB above the worker's baseline (MariaDB's driver reads a whole result at
    once, and index.html's lists were rendered whole): docs/performance.md, "A big
    account's data export".
    """

    def setUp(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        theirs = self.make_post(author=self.stranger)
        self.photo = {
            f: getattr(theirs, f) for f in (*PHOTO_FIELDS, "width", "height", "small_width")
        }

    def give(self, count):
        """`count` more likes and comments from alice, and follows of as many members."""
        posts = Post.objects.bulk_create(
            Post(author=self.stranger, caption=f"post {n}", **self.photo) for n in range(count)
        )
        Like.objects.bulk_create(Like(post=post, user=self.owner) for post in posts)
        Comment.objects.bulk_create(
            Comment(post=post, author=self.owner, body=f"Què bonic, {post.pk}") for post in posts
        )
        start = get_user_model().objects.count()
        members = get_user_model().objects.bulk_create(
            get_user_model()(username=f"member{start + n}") for n in range(count)
        )
        Follow.objects.bulk_create(Follow(follower=self.owner, followee=m) for m in members)

    def peak_while_downloading(self):
        """The most Python memory (bytes, tracemalloc) in use while the archive is read."""
        response = self.client.post("/accounts/export/")
        tracemalloc.start()
        try:
            size = sum(len(piece) for piece in response.streaming_content)
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    def test_ten_times_the_likes_comments_and_follows_take_no_more_memory(self):
        with mock.patch("extagram.accounts.export.ROWS_PER_QUERY", 100):
            self.give(300)
            small, small_size = self.peak_while_downloading()
            self.give(2700)
            large, large_size = self.peak_while_downloading()
        self.assertGreater(large_size, 5 * small_size)
        self.assertLess(large, small + 512 * 1024, (small, large))
