from django.test import RequestFactory, SimpleTestCase

from extagram.core.redirects import MAX_TARGET_LENGTH, safe_target
from extagram.posts.models import Like
from extagram.testing.base import PASSWORD, BaseTestCase

OFF_SITE_OR_NOT_A_PATH = [
    "foo",
    "feed",
    "admin:index",
    "..",
    "../../etc/passwd",
    "",
    "//evil.example/",
    "/\\evil.example/",
    "///evil.example/",
    "http://evil.example/",
    "https://evil.example/p/1/",
    "https:evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "/p/1/\r\nSet-Cookie: x=1",
    "/p/\x00/",
    "/ /",
    "/" + "a" * MAX_TARGET_LENGTH,
]


class SafeTargetTests(SimpleTestCase):
    def test_it_follows_same_site_paths_with_query_and_fragment(self):
        for target in ("/", "/p/3/", "/u/alice/?before=9#post-3", "/p/3/#comments"):
            self.assertEqual(safe_target(target), target)

    def test_it_refuses_url_names_relative_and_off_site_targets(self):
        for target in OFF_SITE_OR_NOT_A_PATH:
            with self.subTest(target=target):
                self.assertIsNone(safe_target(target))

    def test_it_refuses_what_is_not_a_string(self):
        for target in (None, ["/"], 3, b"/"):
            self.assertIsNone(safe_target(target))

    def test_over_https_a_path_is_still_followed(self):
        request = RequestFactory().get("/", secure=True)
        self.assertEqual(safe_target("/p/1/", request), "/p/1/")


class LikeRedirectTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        self.client.login(username="bob", password=PASSWORD)

    def test_a_bare_word_falls_back_to_the_post_and_the_like_is_kept(self):
        response = self.client.post(f"/p/{self.post.pk}/like/", {"next": "foo"})
        self.assertRedirects(response, f"/p/{self.post.pk}/", fetch_redirect_response=False)
        self.assertTrue(Like.objects.filter(post=self.post).exists())

    def test_no_target_leaves_the_site_or_is_taken_as_a_url_name(self):
        for target in OFF_SITE_OR_NOT_A_PATH:
            with self.subTest(target=target):
                response = self.client.post(f"/p/{self.post.pk}/like/", {"next": target})
                self.assertEqual(response["Location"], f"/p/{self.post.pk}/")

    def test_a_same_site_path_is_followed(self):
        response = self.client.post(f"/p/{self.post.pk}/like/", {"next": "/?before=5#post-2"})
        self.assertEqual(response["Location"], "/?before=5#post-2")

    def test_a_next_in_the_query_string_counts_too(self):
        response = self.client.post(f"/p/{self.post.pk}/like/?next=/u/alice/")
        self.assertEqual(response["Location"], "/u/alice/")


class AccountRedirectTests(BaseTestCase):
    def log_in(self, target):
        return self.client.post(
            "/accounts/login/", {"username": "bob", "password": PASSWORD, "next": target}
        )

    def test_logging_in_follows_a_same_site_next(self):
        self.assertEqual(self.log_in("/u/alice/")["Location"], "/u/alice/")

    def test_logging_in_with_a_bad_next_lands_on_the_feed(self):
        for target in ("feed", "foo", "//evil.example/", "http://evil.example/"):
            with self.subTest(target=target):
                self.assertEqual(self.log_in(target)["Location"], "/")
                self.client.logout()

    def test_a_next_in_the_login_query_string_is_checked_too(self):
        response = self.client.post(
            "/accounts/login/?next=//evil.example/", {"username": "bob", "password": PASSWORD}
        )
        self.assertEqual(response["Location"], "/")

    def test_logging_out_never_leaves_the_site(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.post("/accounts/logout/", {"next": "https://evil.example/"})
        self.assertEqual(response["Location"], "/")
