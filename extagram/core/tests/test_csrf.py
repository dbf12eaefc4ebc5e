from django.test import Client

from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import jpeg_bytes


class CsrfTests(BaseTestCase):
    """Every form refuses a POST that lacks the CSRF token."""

    def setUp(self):
        self.post = self.make_post()
        self.checked = Client(enforce_csrf_checks=True)

    def test_every_form_has_a_token(self):
        self.checked.login(username="alice", password=PASSWORD)
        for path in (
            "/upload/",
            f"/p/{self.post.pk}/",
            f"/p/{self.post.pk}/edit/",
            f"/p/{self.post.pk}/delete/",
            "/accounts/password/",
        ):
            self.assertContains(self.checked.get(path), "csrfmiddlewaretoken", msg_prefix=path)
        self.checked.logout()
        for path in ("/accounts/login/", "/accounts/signup/"):
            self.assertContains(self.checked.get(path), "csrfmiddlewaretoken", msg_prefix=path)

    def test_posts_without_a_token_are_refused_and_change_nothing(self):
        self.checked.login(username="alice", password=PASSWORD)
        from django.core.files.uploadedfile import SimpleUploadedFile

        attempts = {
            "/upload/": {"photo": SimpleUploadedFile("a.jpg", jpeg_bytes()), "caption": "x"},
            f"/p/{self.post.pk}/like/": {},
            f"/p/{self.post.pk}/comments/": {"body": "hi"},
            f"/p/{self.post.pk}/edit/": {"caption": "changed"},
            f"/p/{self.post.pk}/delete/": {},
            "/accounts/password/": {
                "old_password": PASSWORD,
                "new_password1": "zz-long-pass-1",
                "new_password2": "zz-long-pass-1",
            },
            "/accounts/logout/": {},
        }
        for path, data in attempts.items():
            self.assertEqual(self.checked.post(path, data).status_code, 403, path)
        self.post.refresh_from_db()
        self.assertEqual(
            (self.post.caption, self.post.like_count, self.post.comment_count),
            ("A day at the beach", 0, 0),
        )
        self.owner.refresh_from_db()
        self.assertTrue(self.owner.check_password(PASSWORD))

    def test_login_and_signup_without_a_token_are_refused(self):
        response = self.checked.post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD}
        )
        self.assertEqual(response.status_code, 403)
        response = self.checked.post(
            "/accounts/signup/",
            {"username": "eve", "password1": "zz-long-pass-1", "password2": "zz-long-pass-1"},
        )
        self.assertEqual(response.status_code, 403)
