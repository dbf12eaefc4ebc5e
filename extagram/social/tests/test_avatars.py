"""Profile pictures: uploaded through the photo pipeline, cropped square, stored and
released under the same StoredFile locks as photos, shown on profiles, cards and comments."""

import io
import os
import time
import zipfile
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from extagram.accounts.erasure import delete_account
from extagram.accounts.models import Profile
from extagram.posts.models import Comment, Post, StoredFile
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import encode, jpeg_bytes
from extagram.uploads.images import process_photo

HOUR = 3600


def stored_files():
    root = settings.MEDIA_ROOT / "photos"
    if not root.exists():
        return set()
    return {f"photos/{p.parent.name}/{p.name}" for p in root.glob("*/*")}


def picture_upload(data, name="me.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


class AvatarTestCase(BaseTestCase):
    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)

    def upload_avatar(self, data=None, **extra):
        data = data or jpeg_bytes(640, 480, color=(200, 30, 30))
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post("/upload/avatar/", {"picture": picture_upload(data), **extra})

    def profile(self, user=None):
        return Profile.objects.get(user=user or self.owner)


class AvatarUploadTests(AvatarTestCase):
    def test_a_member_uploads_a_picture_and_it_shows_on_their_profile(self):
        response = self.upload_avatar()
        self.assertRedirects(response, "/u/alice/", fetch_redirect_response=False)
        profile = self.profile()
        self.assertTrue(profile.avatar_large.startswith("photos/"))
        self.assertEqual(stored_files(), {profile.avatar_large, profile.avatar_small})
        page = self.client.get("/u/alice/")
        self.assertContains(
            page,
            f'srcset="{profile.avatar_small_url} 64w, {profile.avatar_url} 160w" sizes="80px" '
            'width="80" height="80" alt=""',
        )

    def test_the_picture_shows_on_post_cards_and_comments(self):
        post = self.make_post()
        Comment.objects.create(post=post, author=self.owner, body="mine")
        self.upload_avatar()
        small = self.profile().avatar_small_url
        feed = self.client.get("/explore/")
        self.assertContains(feed, f'src="{small}"')
        self.assertContains(feed, 'width="32" height="32" alt=""')
        detail = self.client.get(post.get_absolute_url())
        self.assertContains(detail, 'width="24" height="24" alt=""')

    def test_a_member_without_a_picture_gets_the_neutral_placeholder(self):
        self.make_post()
        page = self.client.get("/u/alice/")
        self.assertContains(page, 'class="avatar placeholder" src="/static/extagram/avatar.svg"')
        self.assertContains(page, 'width="80" height="80" alt=""')

    def test_the_cached_card_shows_a_new_picture_at_once(self):
        self.make_post()
        self.client.get("/explore/")  # the card is cached without a picture
        self.upload_avatar()
        first = self.profile().avatar_small_url
        self.assertContains(self.client.get("/explore/"), first)
        self.upload_avatar(jpeg_bytes(300, 300, color=(10, 200, 10)))
        second = self.profile().avatar_small_url
        self.assertNotEqual(first, second)
        feed = self.client.get("/explore/")
        self.assertContains(feed, second)
        self.assertNotContains(feed, first)

    def test_the_picture_is_cropped_to_a_centred_square_in_two_sizes(self):
        wide = Image.new("RGB", (900, 300), (0, 0, 255))
        wide.paste((255, 0, 0), (300, 0, 600, 300))  # the centre third is red
        self.upload_avatar(encode(wide, "PNG"))
        profile = self.profile()
        self.assertEqual((profile.avatar_side, profile.avatar_small_side), (160, 64))
        for name, side in ((profile.avatar_large, 160), (profile.avatar_small, 64)):
            with Image.open(settings.MEDIA_ROOT / name) as image:
                self.assertEqual((image.format, image.size), ("JPEG", (side, side)))
                red, green, blue = image.convert("RGB").getpixel((2, side // 2))
                self.assertGreater(red, 200)  # the blue sides were cropped away
                self.assertLess(blue, 60)

    def test_a_picture_smaller_than_the_sizes_is_cropped_square_and_not_enlarged(self):
        self.upload_avatar(jpeg_bytes(40, 100))
        profile = self.profile()
        self.assertEqual((profile.avatar_side, profile.avatar_small_side), (40, 40))
        with Image.open(settings.MEDIA_ROOT / profile.avatar_large) as image:
            self.assertEqual(image.size, (40, 40))

    def test_a_picture_no_larger_than_the_small_size_is_shown_without_a_srcset(self):
        self.upload_avatar(jpeg_bytes(1, 1))
        profile = self.profile()
        self.assertEqual(profile.avatar_large, profile.avatar_small)
        page = self.client.get("/u/alice/").content.decode()
        self.assertIn(f'src="{profile.avatar_small_url}"', page)
        self.assertNotIn(f"{profile.avatar_small_url} 1w", page)
        self.upload_avatar()  # 640 x 480: two sizes, two files
        self.assertIn(" 64w, ", self.client.get("/u/alice/").content.decode())

    def test_the_edit_page_has_the_picture_form_and_a_remove_button_only_with_a_picture(self):
        page = self.client.get("/accounts/profile/")
        self.assertContains(page, 'action="/upload/avatar/" enctype="multipart/form-data"')
        self.assertNotContains(page, 'action="/upload/avatar/remove/"')
        self.upload_avatar()
        self.assertContains(
            self.client.get("/accounts/profile/"), 'action="/upload/avatar/remove/"'
        )


class HostileAvatarTests(AvatarTestCase):
    def assert_refused(self, response, status=400):
        self.assertEqual(response.status_code, status)
        self.assertEqual(stored_files(), set())
        self.assertFalse(StoredFile.objects.exists())
        self.assertEqual(self.profile().avatar_names, [])

    def test_a_png_bomb_is_refused_with_a_400_and_stores_nothing(self):
        bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")
        self.assertLess(len(bomb), 100_000)
        response = self.upload_avatar(bomb)
        self.assert_refused(response)
        self.assertContains(response, "too many pixels", status_code=400)

    def test_a_file_that_is_not_an_image_is_refused_with_a_400_and_stores_nothing(self):
        response = self.upload_avatar(b"<html><script>alert(1)</script></html>" * 50)
        self.assert_refused(response)
        self.assertContains(response, "not a photo we can read", status_code=400)

    def test_a_truncated_jpeg_is_refused_with_a_400_and_stores_nothing(self):
        self.assert_refused(self.upload_avatar(jpeg_bytes(640, 480)[:2000]))

    def test_a_post_without_a_picture_is_a_400(self):
        self.assert_refused(self.client.post("/upload/avatar/", {}))

    def test_an_upload_over_the_size_limit_is_a_413_and_stores_nothing(self):
        with self.settings(UPLOAD_MAX_BYTES=1000):
            self.assert_refused(self.upload_avatar(), status=413)

    def test_it_needs_sign_in_and_a_post(self):
        response = self.client.get("/upload/avatar/")  # the form's page, not a blank 405
        self.assertEqual((response.status_code, response["Location"]), (302, "/accounts/profile/"))
        self.assertEqual(self.client.put("/upload/avatar/").status_code, 405)
        self.client.logout()
        response = self.upload_avatar()
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
        response = self.client.post("/upload/avatar/remove/")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(stored_files(), set())


class AvatarFileLifecycleTests(AvatarTestCase):
    def test_replacing_the_picture_releases_the_old_files(self):
        self.upload_avatar()
        old = set(self.profile().avatar_names)
        self.upload_avatar(jpeg_bytes(500, 500, color=(1, 2, 250)))
        new = set(self.profile().avatar_names)
        self.assertFalse(old & new)
        self.assertEqual(stored_files(), new)
        self.assertEqual(set(StoredFile.objects.values_list("name", flat=True)), new)

    def test_removing_the_picture_releases_its_files_and_shows_the_placeholder(self):
        self.upload_avatar()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post("/upload/avatar/remove/")
        self.assertRedirects(response, "/u/alice/", fetch_redirect_response=False)
        self.assertEqual(self.profile().avatar_names, [])
        self.assertEqual(stored_files(), set())
        self.assertFalse(StoredFile.objects.exists())
        self.assertContains(self.client.get("/u/alice/"), "avatar placeholder")

    def shared_post_and_avatar(self):
        """A post and alice's avatar that use the very same two files."""
        photo = process_photo(  # JPEGs only, the files an avatar and a post can share
            SimpleUploadedFile("p.jpg", jpeg_bytes(200, 200)), max_pixels=50_000_000, webp_widths=()
        )
        post = Post.objects.create_with_photo(self.owner, photo)
        self.profile().set_avatar(photo)
        self.assertEqual(set(self.profile().avatar_names), set(post.image_names))
        return post

    def test_a_file_shared_by_an_avatar_and_a_post_survives_deleting_the_post(self):
        post = self.shared_post_and_avatar()
        names = set(post.image_names)
        with self.captureOnCommitCallbacks(execute=True):
            post.delete()
        self.assertEqual(stored_files(), names)
        with self.captureOnCommitCallbacks(execute=True):
            self.profile().remove_avatar()
        self.assertEqual(stored_files(), set())

    def test_a_file_shared_by_an_avatar_and_a_post_survives_removing_the_avatar(self):
        post = self.shared_post_and_avatar()
        names = set(post.image_names)
        with self.captureOnCommitCallbacks(execute=True):
            self.profile().remove_avatar()
        self.assertEqual(stored_files(), names)
        with self.captureOnCommitCallbacks(execute=True):
            post.delete()
        self.assertEqual(stored_files(), set())

    def test_a_file_shared_by_two_avatars_survives_either_being_replaced(self):
        photo = process_photo(  # JPEGs only, the files an avatar and a post can share
            SimpleUploadedFile("p.jpg", jpeg_bytes(200, 200)), max_pixels=50_000_000, webp_widths=()
        )
        self.profile().set_avatar(photo)
        self.profile(self.stranger).set_avatar(photo)
        names = set(self.profile().avatar_names)
        with self.captureOnCommitCallbacks(execute=True):
            self.profile().remove_avatar()
        self.assertEqual(stored_files(), names)

    def age_everything(self):
        then = time.time() - 2 * HOUR
        for name in stored_files():
            os.utime(settings.MEDIA_ROOT / name, (then, then))
        StoredFile.objects.update(touched_at=timezone.now() - timedelta(hours=2))

    def test_the_media_sweep_keeps_avatar_files(self):
        self.upload_avatar()
        names = set(self.profile().avatar_names)
        StoredFile.objects.all().delete()  # also with no lock rows: the files alone
        self.age_everything()
        self.assertEqual(StoredFile.objects.sweep(grace=HOUR)["deleted"], [])
        self.assertEqual(stored_files(), names)

    def test_the_media_sweep_removes_the_files_of_a_removal_whose_clean_up_never_ran(self):
        self.upload_avatar()
        names = self.profile().avatar_names
        with self.captureOnCommitCallbacks(execute=False):  # the process died here
            self.profile().remove_avatar()
        self.age_everything()
        self.assertEqual(sorted(StoredFile.objects.sweep(grace=HOUR)["deleted"]), sorted(names))
        self.assertEqual(stored_files(), set())

    def test_deleting_the_account_deletes_its_picture_but_not_a_file_another_uses(self):
        photo = process_photo(  # JPEGs only, the files an avatar and a post can share
            SimpleUploadedFile("p.jpg", jpeg_bytes(200, 200)), max_pixels=50_000_000, webp_widths=()
        )
        Post.objects.create_with_photo(self.stranger, photo)
        self.profile().set_avatar(photo)
        shared = set(self.profile().avatar_names)
        self.upload_avatar()  # alice's own picture replaces the shared one
        own = set(self.profile().avatar_names)
        self.assertEqual(stored_files(), shared | own)
        with self.captureOnCommitCallbacks(execute=True):
            delete_account(get_user_model().objects.get(pk=self.owner.pk))
        self.assertEqual(stored_files(), shared)

    def test_the_admins_deletion_of_an_account_deletes_its_picture_too(self):
        self.upload_avatar()
        self.assertEqual(len(stored_files()), 2)
        self.client.login(username="sam", password=PASSWORD)
        url = f"/admin/auth/user/{self.owner.pk}/delete/"
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 302)
        self.assertEqual(stored_files(), set())

    def test_the_export_holds_the_picture(self):
        self.upload_avatar()
        response = self.client.post("/accounts/export/")
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        stored = (settings.MEDIA_ROOT / self.profile().avatar_large).read_bytes()
        self.assertEqual(archive.read("avatar.jpg"), stored)
        self.assertIn('"avatar": "avatar.jpg"', archive.read("data.json").decode())
        self.assertIn('src="avatar.jpg"', archive.read("index.html").decode())


class AvatarAuthorizationTests(AvatarTestCase):
    def test_nobody_changes_or_removes_another_members_picture(self):
        self.upload_avatar()
        alices = self.profile().avatar_names
        self.client.login(username="bob", password=PASSWORD)
        self.upload_avatar(jpeg_bytes(300, 300, color=(9, 9, 9)), user=str(self.owner.pk))
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post("/upload/avatar/remove/", {"user": str(self.owner.pk)})
        self.assertEqual(self.profile().avatar_names, alices)
        self.assertTrue(set(alices) <= stored_files())
        self.assertEqual(self.profile(self.stranger).avatar_names, [])


class AvatarQueryBoundTests(AvatarTestCase):
    def count_queries(self, path):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(path)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_pages_with_pictures_cost_the_same_queries_for_2_and_12_authors(self):
        photo = process_photo(
            SimpleUploadedFile("a.jpg", jpeg_bytes(200, 200)), max_pixels=50_000_000
        )
        post = self.make_post()
        self.profile().set_avatar(photo)
        Comment.objects.create(post=post, author=self.stranger, body="one")
        with self.settings(FEED_PAGE_SIZE=2):
            self.make_post(self.stranger)
            small_feed = self.count_queries("/explore/")
        small_detail = self.count_queries(post.get_absolute_url())
        User = get_user_model()
        for i in range(10):
            other = User.objects.create_user(f"member{i}")
            Profile.objects.get(user=other).set_avatar(photo)
            self.make_post(other)
            Comment.objects.create(post=post, author=other, body=f"comment {i}")
        with self.settings(FEED_PAGE_SIZE=12):
            large_feed = self.count_queries("/explore/")
        self.assertEqual(small_feed, large_feed)
        self.assertEqual(small_detail, self.count_queries(post.get_absolute_url()))


class AvatarRoleTests(AvatarTestCase):
    def test_the_upload_role_takes_pictures_and_the_app_role_does_not(self):
        with self.settings(ROLE="app"):
            self.assertEqual(self.upload_avatar().status_code, 404)
            self.assertEqual(self.client.post("/upload/avatar/remove/").status_code, 404)
        self.assertEqual(stored_files(), set())
        with self.settings(ROLE="upload"):
            self.assertEqual(self.upload_avatar().status_code, 302)
            self.assertNotEqual(self.profile().avatar_names, [])
            with self.captureOnCommitCallbacks(execute=True):
                self.assertEqual(self.client.post("/upload/avatar/remove/").status_code, 302)
        self.assertEqual(stored_files(), set())
