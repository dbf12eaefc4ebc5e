from django.test import override_settings

from extagram.testing.base import PASSWORD, BaseTestCase


class ProxyMicrocachingTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()

    def test_signed_out_pages_may_be_kept_briefly_by_the_proxy(self):
        for path in ("/", f"/p/{self.post.pk}/", "/u/alice/"):
            self.assertEqual(self.client.get(path)["X-Accel-Expires"], "2", path)

    def test_signed_in_pages_are_never_shared(self):
        self.client.login(username="bob", password=PASSWORD)
        for path in ("/", f"/p/{self.post.pk}/", "/u/alice/"):
            self.assertNotIn("X-Accel-Expires", self.client.get(path), path)

    def test_errors_are_not_shared(self):
        self.assertNotIn("X-Accel-Expires", self.client.get("/?before=bad"))
        self.assertNotIn("X-Accel-Expires", self.client.get("/u/nobody/"))

    @override_settings(PROXY_CACHE_SECONDS=0)
    def test_it_can_be_turned_off(self):
        self.assertNotIn("X-Accel-Expires", self.client.get("/"))
