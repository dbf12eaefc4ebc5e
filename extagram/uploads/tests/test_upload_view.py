import re
from unittest import mock

from django.test import override_settings
from PIL import Image

from extagram.posts.models import Post, PostQuerySet
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import (
    GPS_IFD,
    encode,
    jpeg_bytes,
    jpeg_with_gps_and_orientation,
    noisy_jpeg,
)


class UploadViewTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)

    def stored_files(self):
        from django.conf import settings

        root = settings.MEDIA_ROOT
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def assert_nothing_stored(self):
        self.assertEqual(Post.objects.count(), 0)
        self.assertEqual(self.stored_files(), [])

    def test_it_shows_the_form(self):
        response = self.client.get("/upload/")
        self.assertContains(response, 'enctype="multipart/form-data"')
        form = response.content.decode().split('enctype="multipart/form-data"', 1)[1]
        form = form.split("</form>", 1)[0]
        self.assertEqual(form.count("<label"), 3)  # photo, caption, alt text

    def test_it_asks_anonymous_visitors_to_log_in(self):
        self.client.logout()
        response = self.client.get("/upload/")
        self.assertRedirects(response, "/accounts/login/?next=/upload/")
        response = self.upload(jpeg_bytes())
        self.assertEqual(response.status_code, 302)
        self.assert_nothing_stored()

    def test_it_creates_a_post_with_both_sizes_on_disk(self):
        response = self.upload(jpeg_bytes(2000, 1500), caption="Sunset", alt_text="Orange sky")
        post = Post.objects.get()
        self.assertRedirects(response, f"/p/{post.pk}/")
        self.assertEqual(
            (post.caption, post.alt_text, post.author), ("Sunset", "Orange sky", self.owner)
        )
        self.assertEqual((post.width, post.height, post.small_width), (1080, 810, 480))
        # JPEG 1080 and 480, WebP 1080, 828 and 480
        self.assertEqual(len(self.stored_files()), 5)
        self.assertEqual(post.medium_width, 828)
        page = self.client.get(f"/p/{post.pk}/")
        self.assertContains(page, post.large_url)
        self.assertContains(page, f"{post.small_url} 480w")
        self.assertContains(page, 'alt="Orange sky"')

    def test_the_stored_photo_is_upright_and_has_no_gps(self):
        self.upload(jpeg_with_gps_and_orientation(640, 480, orientation=6))
        post = Post.objects.get()
        for path in self.stored_files():
            with Image.open(path) as image:
                self.assertEqual(image.size, (480, 640))
                self.assertNotIn(GPS_IFD, image.getexif())
        self.assertEqual((post.width, post.height), (480, 640))

    def test_the_photo_is_served_in_the_embedded_mode(self):
        self.upload(jpeg_bytes())
        post = Post.objects.get()
        response = self.client.get(post.large_url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_it_refuses_a_text_file_renamed_as_an_image_and_stores_nothing(self):
        response = self.upload(b"hello, this is text", name="cat.jpg")
        self.assertContains(response, "not a photo we can read", status_code=400)
        self.assert_nothing_stored()

    def test_it_refuses_html_svg_and_pdf_whatever_the_declared_type(self):
        for data in (
            b"<html><script>alert(1)</script></html>",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            b"%PDF-1.7\n%%EOF",
        ):
            response = self.upload(data, name="image.png", content_type="image/png")
            self.assertEqual(response.status_code, 400)
        self.assert_nothing_stored()

    def test_it_refuses_a_pixel_bomb_with_a_message(self):
        bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")
        self.assertLess(len(bomb), 100_000)
        response = self.upload(bomb, name="bomb.png", content_type="image/png")
        self.assertContains(response, "too many pixels", status_code=400)
        self.assert_nothing_stored()

    def test_it_refuses_a_truncated_image(self):
        data = noisy_jpeg(600, 400)
        response = self.upload(data[: len(data) // 3])
        self.assertEqual(response.status_code, 400)
        self.assert_nothing_stored()

    @override_settings(UPLOAD_MAX_BYTES=200_000, UPLOAD_MAX_MB=0.2)
    def test_it_refuses_an_upload_over_the_size_limit(self):
        data = noisy_jpeg(600, 600)
        self.assertGreater(len(data), 200_000)
        response = self.upload(data)
        self.assertContains(response, "too large", status_code=413)
        self.assert_nothing_stored()

    @override_settings(UPLOAD_MAX_BYTES=200_000, UPLOAD_MAX_MB=0.2)
    def test_the_view_refuses_a_file_over_the_limit_even_past_the_middleware(self):
        # A body without a declared length (chunked) passes the middleware's
        # Content-Length check; the upload handler must still stop the file.
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import RequestFactory

        from extagram.uploads.views import upload

        photo = SimpleUploadedFile("big.jpg", noisy_jpeg(600, 600), content_type="image/jpeg")
        request = RequestFactory().post("/upload/", {"photo": photo, "caption": "x"})
        request.user = self.owner
        request._dont_enforce_csrf_checks = True
        response = upload(request)
        self.assertContains(response, "too large", status_code=413)
        self.assert_nothing_stored()

    def test_it_refuses_a_caption_over_2200_characters(self):
        response = self.upload(jpeg_bytes(), caption="x" * 2201)
        self.assertEqual(response.status_code, 400)
        self.assert_nothing_stored()

    def test_it_accepts_a_caption_of_exactly_2200_characters_with_emoji(self):
        caption = "🌅" * 2200
        self.upload(jpeg_bytes(), caption=caption)
        self.assertEqual(Post.objects.get().caption, caption)

    def test_it_refuses_a_post_without_a_photo(self):
        response = self.client.post("/upload/", {"caption": "no photo"})
        self.assertEqual(response.status_code, 400)
        self.assert_nothing_stored()

    def test_a_failure_after_the_files_are_written_leaves_neither_file_nor_row(self):
        failing_insert = mock.patch.object(
            PostQuerySet, "create", side_effect=RuntimeError("disk full")
        )
        with failing_insert, self.assertRaises(RuntimeError):
            self.upload(jpeg_bytes())
        self.assert_nothing_stored()

    def test_a_database_failure_after_the_files_are_written_leaves_nothing(self):
        from django.db import IntegrityError

        failing_save = mock.patch.object(Post, "save", side_effect=IntegrityError("boom"))
        with failing_save, self.assertRaises(IntegrityError):
            self.upload(jpeg_bytes())
        self.assert_nothing_stored()

    def test_the_client_cannot_choose_the_stored_file_name(self):
        self.upload(jpeg_bytes(), name="../../evil.php")
        names = [p.name for p in self.stored_files()]
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{64}\.(jpg|webp)", n) for n in names), names)
        self.assertFalse(any("evil" in n for n in names))

    def test_the_same_photo_posted_twice_shares_files_and_survives_one_deletion(self):
        data = jpeg_bytes()
        self.upload(data)
        self.upload(data)
        first, second = Post.objects.order_by("id")
        self.assertEqual(first.image_names, second.image_names)
        self.client.post(f"/p/{first.pk}/delete/")
        self.assertEqual(len(self.stored_files()), 4)  # JPEG and WebP, 640 and 480 px
