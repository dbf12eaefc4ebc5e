import re

from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string, _unmask_cipher_token, rotate_token
from django.test import Client, RequestFactory

from extagram.core.context_processors import page_csrf_token
from extagram.posts.models import Like
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import jpeg_bytes

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


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


class OneTokenPerPageTests(BaseTestCase):
    """A page's forms share one masked CSRF token (page_csrf_token), which the site accepts."""

    def test_the_header_and_every_like_button_carry_the_same_accepted_token(self):
        posts = [self.make_post() for _ in range(3)]
        client = Client(enforce_csrf_checks=True)
        client.login(username="bob", password=PASSWORD)
        page = client.get("/explore/").content.decode()
        tokens = TOKEN.findall(page)
        self.assertEqual(len(tokens), len(posts) + 1)  # the log-out form and the buttons
        self.assertEqual(len(set(tokens)), 1)
        response = client.post(
            f"/p/{posts[0].pk}/like/", {"csrfmiddlewaretoken": tokens[0], "next": "/"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Like.objects.filter(post=posts[0], user=self.stranger).exists())

    def test_each_page_gets_a_new_mask_of_the_same_secret(self):
        client = Client()
        client.login(username="bob", password=PASSWORD)
        first, second = (TOKEN.search(client.get("/explore/").content.decode()) for _ in "12")
        self.assertNotEqual(first.group(1), second.group(1))
        secret = client.cookies[settings.CSRF_COOKIE_NAME].value
        self.assertEqual(_unmask_cipher_token(first.group(1)), secret)
        self.assertEqual(_unmask_cipher_token(second.group(1)), secret)

    def test_a_secret_rotated_during_the_request_gets_a_token_of_the_new_secret(self):
        request = RequestFactory().get("/")
        request.META["CSRF_COOKIE"] = _get_new_csrf_string()
        before = page_csrf_token(request)
        self.assertEqual(page_csrf_token(request), before)
        rotate_token(request)  # as django.contrib.auth.login() does
        after = page_csrf_token(request)
        self.assertNotEqual(after, before)
        self.assertEqual(_unmask_cipher_token(after), request.META["CSRF_COOKIE"])
