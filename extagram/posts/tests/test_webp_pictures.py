"""Posts' WebP files (issue 13, lighter pages): offered first in a <picture>, with the
JPEG <img> as the fallback (and the only choice for posts made before WebP); stored,
shared, deleted and swept under the same StoredFile bookkeeping as the JPEGs."""

from html.parser import HTMLParser

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from extagram.posts.models import Post, StoredFile
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import jpeg_bytes
from extagram.uploads.images import process_photo

SIZES = "(max-width: 640px) 100vw, 614px"


class Pictures(HTMLParser):
    """Each <picture> of a page as a list of (tag, attributes) of its <source>s and <img>."""

    def __init__(self, html):
        super().__init__()
        self.pictures, self._open = [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "picture":
            self._open = []
        elif tag in ("source", "img") and self._open is not None:
            self._open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "picture" and self._open is not None:
            self.pictures.append(self._open)
            self._open = None


class WebpPictureTests(BaseTestCase):
    def post_photo(self, data=None, author=None, alt_text="A red kite over the hills"):
        photo = process_photo(
            SimpleUploadedFile("p.jpg", data or jpeg_bytes(2000, 1500)), max_pixels=10**8
        )
        return Post.objects.create_with_photo(
            author or self.owner, photo, caption="kite", alt_text=alt_text
        )

    def url(self, name):
        return f"/media/{name}"

    def on_disk(self, names):
        return [(settings.MEDIA_ROOT / name).exists() for name in names]

    def test_the_feed_offers_the_webp_first_and_keeps_the_jpeg_img_with_its_alt_text(self):
        post = self.post_photo()
        (picture,) = Pictures(self.client.get("/").content.decode()).pictures
        self.assertEqual([tag for tag, _ in picture], ["source", "img"])
        source, img = picture[0][1], picture[1][1]
        self.assertEqual(source["type"], "image/webp")
        self.assertEqual(
            source["srcset"],
            f"{self.url(post.image_small_webp)} 480w, {self.url(post.image_medium_webp)} 828w, "
            f"{self.url(post.image_large_webp)} 1080w",
        )
        self.assertEqual(source["sizes"], SIZES)
        self.assertEqual(img["src"], post.large_url)
        self.assertEqual(img["srcset"], f"{post.small_url} 480w, {post.large_url} 1080w")
        self.assertEqual(img["sizes"], SIZES)
        self.assertEqual(img["alt"], "A red kite over the hills")
        self.assertEqual((img["width"], img["height"]), ("1080", "810"))

    def test_the_post_page_offers_the_webp_too(self):
        post = self.post_photo()
        (picture,) = Pictures(self.client.get(post.get_absolute_url()).content.decode()).pictures
        self.assertEqual(picture[0][1]["type"], "image/webp")
        self.assertEqual(picture[1][1]["src"], post.large_url)

    def test_a_post_made_before_webp_is_shown_with_its_jpegs_only(self):
        post = self.post_photo(alt_text="")
        Post.objects.filter(pk=post.pk).update(
            image_large_webp="", image_medium_webp="", image_small_webp="", medium_width=0
        )
        page = self.client.get("/").content.decode()
        (picture,) = Pictures(page).pictures
        self.assertEqual([tag for tag, _ in picture], ["img"])
        self.assertEqual(picture[0][1]["src"], post.large_url)
        self.assertEqual(picture[0][1]["alt"], "Photo by alice")
        self.assertNotIn("image/webp", page)
        grid = Pictures(self.client.get("/u/alice/").content.decode()).pictures
        self.assertEqual(grid, [[("img", grid[0][0][1])]])

    def test_a_photo_narrower_than_the_medium_width_lists_no_medium_file(self):
        post = self.post_photo(data=jpeg_bytes(700, 500))
        self.assertEqual((post.image_medium_webp, post.medium_width), ("", 0))
        (picture,) = Pictures(self.client.get("/").content.decode()).pictures
        self.assertEqual(
            picture[0][1]["srcset"],
            f"{self.url(post.image_small_webp)} 480w, {self.url(post.image_large_webp)} 700w",
        )

    def test_a_photo_no_wider_than_the_small_size_lists_each_width_once(self):
        # "x.webp 400w, y.webp 400w": HTML forbids two candidates with one width
        post = self.post_photo(data=jpeg_bytes(400, 300))
        (picture,) = Pictures(self.client.get("/").content.decode()).pictures
        source, img = picture[0][1], picture[1][1]
        self.assertEqual(source["srcset"], f"{self.url(post.image_small_webp)} 400w")
        self.assertEqual(img["srcset"], f"{post.small_url} 400w")
        self.assertEqual(img["src"], post.large_url)

    def test_the_profile_grid_offers_the_small_webp(self):
        post = self.post_photo()
        (picture,) = Pictures(self.client.get("/u/alice/").content.decode()).pictures
        self.assertEqual(
            picture,
            [
                ("source", {"type": "image/webp", "srcset": self.url(post.image_small_webp)}),
                ("img", picture[1][1]),
            ],
        )
        self.assertEqual(picture[1][1]["src"], post.small_url)
        self.assertEqual(picture[1][1]["alt"], "A red kite over the hills")

    def test_the_embedded_site_serves_a_webp_as_image_webp(self):
        post = self.post_photo()
        response = self.client.get(self.url(post.image_large_webp))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/webp")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(b"".join(response.streaming_content)[8:12], b"WEBP")

    def test_every_file_of_the_post_has_its_stored_file_row_and_goes_with_the_post(self):
        post = self.post_photo()
        names = post.image_names
        self.assertEqual(len(names), 5)
        self.assertEqual(sum(name.endswith(".webp") for name in names), 3)
        self.assertEqual(set(StoredFile.objects.values_list("name", flat=True)), set(names))
        self.assertTrue(all(self.on_disk(names)))
        self.client.login(username="alice", password=PASSWORD)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(f"/p/{post.pk}/delete/")
        self.assertFalse(any(self.on_disk(names)))
        self.assertFalse(StoredFile.objects.exists())

    def test_a_webp_shared_by_two_posts_stays_until_the_last_one_goes(self):
        data = jpeg_bytes(2000, 1500, color=(200, 30, 90))
        first = self.post_photo(data=data)
        second = self.post_photo(data=data, author=self.stranger)
        self.assertEqual(first.image_names, second.image_names)
        with self.captureOnCommitCallbacks(execute=True):
            first.delete()
        self.assertTrue(all(self.on_disk(second.image_names)))
        with self.captureOnCommitCallbacks(execute=True):
            second.delete()
        self.assertFalse(any(self.on_disk(second.image_names)))

    def test_the_sweep_removes_an_orphan_webp_and_keeps_a_live_posts(self):
        post = self.post_photo()
        orphan = "photos/ab/" + "ab" * 32 + ".webp"
        (settings.MEDIA_ROOT / "photos/ab").mkdir(parents=True, exist_ok=True)
        (settings.MEDIA_ROOT / orphan).write_bytes(b"RIFF left by a crash")
        report = StoredFile.objects.sweep(grace=0)
        self.assertEqual(report["deleted"], [orphan])
        self.assertTrue(all(self.on_disk(post.image_names)))

    def test_an_avatar_set_from_a_photo_with_webp_files_takes_and_stores_its_jpegs_only(self):
        from extagram.accounts.models import Profile

        photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(200, 200)), max_pixels=10**8)
        self.assertEqual(len(photo.variants), 4)
        profile = Profile.objects.get(user=self.owner)
        profile.set_avatar(photo)
        jpegs = {v.storage_name for v in photo.variants if v.format == "jpeg"}
        self.assertEqual(set(profile.avatar_names), jpegs)
        self.assertEqual(set(StoredFile.objects.values_list("name", flat=True)), jpegs)
        self.assertFalse(any(self.on_disk(v.storage_name for v in photo.variants[2:])))
