"""A member whose account is deleted while one of their requests is under way."""

from unittest import mock

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TransactionTestCase

from extagram.posts.models import Like, Post
from extagram.testing.base import PASSWORD
from extagram.testing.images import jpeg_bytes
from extagram.uploads.images import process_photo


def _deleting_the_account_first(user_pk, original):
    """Wrap `original` so the account is deleted just before it runs (as by another request)."""

    def wrapper(*args, **kwargs):
        get_user_model().objects.filter(pk=user_pk).delete()
        return original(*args, **kwargs)

    return wrapper


class VanishedAccountTests(TransactionTestCase):
    """TransactionTestCase: the foreign-key check happens at a real commit, as in production."""

    def setUp(self):
        User = get_user_model()
        self.member = User.objects.create_user("dana", password=PASSWORD)
        self.other = User.objects.create_user("eli", password=PASSWORD)
        self.client.login(username="dana", password=PASSWORD)

    def test_an_upload_whose_account_was_deleted_meanwhile_is_a_403_and_stores_no_post(self):
        wrapped = _deleting_the_account_first(self.member.pk, process_photo)
        with mock.patch("extagram.uploads.images.process_photo", wrapped):
            photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
            response = self.client.post("/upload/", {"photo": photo, "caption": "hi"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Post.objects.exists())
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_a_like_whose_account_was_deleted_meanwhile_is_a_403(self):
        photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes()), max_pixels=10**8)
        post = Post.objects.create_with_photo(self.other, photo, caption="theirs")
        wrapped = _deleting_the_account_first(self.member.pk, Like.toggle)
        with mock.patch.object(Like, "toggle", wrapped):
            response = self.client.post(f"/p/{post.pk}/like/")
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Like.objects.exists())
