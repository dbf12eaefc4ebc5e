import itertools
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client, TestCase

from extagram.posts.models import Post
from extagram.uploads.images import process_photo

from .images import jpeg_bytes

PASSWORD = "correct horse battery staple"
_colors = itertools.count(1)


class BaseTestCase(TestCase):
    """Named users: an owner, a stranger and a member of staff."""

    @classmethod
    def setUpTestData(cls):
        User = get_user_model()
        cls.owner = User.objects.create_user("alice", password=PASSWORD)
        cls.stranger = User.objects.create_user("bob", password=PASSWORD)
        cls.staff = User.objects.create_user(
            "sam", password=PASSWORD, is_staff=True, is_superuser=True
        )

    def make_post(self, author=None, caption="A day at the beach", data=None):
        return make_post(author or self.owner, caption, data)

    def upload(self, data, name="photo.jpg", content_type="image/jpeg", **fields):
        fields.setdefault("caption", "Hello")
        photo = SimpleUploadedFile(name, data, content_type=content_type)
        return self.client.post("/upload/", {"photo": photo, **fields})

    def renders_of(self, template_name, module, path):
        """How many times the page at `path` (a GET, answered 200) renders `template_name`
        through `module`'s render_to_string: what a kept fragment saves (core.memo)."""
        with mock.patch(f"{module}.render_to_string", wraps=render_to_string) as spy:
            self.assertEqual(self.client.get(path).status_code, 200)
        return sum(call.args[0] == template_name for call in spy.call_args_list)


def signed_in(member):
    """A test Client (a browser) signed in as `member` (a User whose password is PASSWORD)
    through the log-in form."""
    browser = Client()
    browser.post("/accounts/login/", {"login": member.username, "password": PASSWORD})
    return browser


def post_in_a_tab(browser, path, data, answers):
    """POST `data` to `path` from another tab of `browser` (a Client: the same session,
    its own connection, so that threads can race it: extagram.testing.threads) and
    append the response to the list `answers`."""
    tab = Client()
    tab.cookies = browser.cookies
    answers.append(tab.post(path, data))


def make_post(author, caption="A day at the beach", data=None):
    """A post by `author` (a User) with a small JPEG of a colour no other test post has
    (or the image bytes `data`), through the upload pipeline: for tests outside
    BaseTestCase, such as TransactionTestCase ones."""
    photo = process_photo(
        SimpleUploadedFile("p.jpg", data or jpeg_bytes(color=_next_color())),
        max_pixels=50_000_000,
    )
    return Post.objects.create_with_photo(author, photo, caption=caption)


def _next_color():
    n = next(_colors)
    return (n * 37 % 256, n * 91 % 256, n * 53 % 256)
