"""The app sends its own security headers on every page (issue 14), signed in or out,
so any deployment has them; signed-in pages are private to the browser's cache."""

import re
from pathlib import Path

from django.conf import settings

from extagram.testing.base import PASSWORD, BaseTestCase

TEMPLATE_DIRS = sorted((Path(settings.BASE_DIR) / "extagram").glob("**/templates"))
# Templates that are not served as pages of the site (files in the "download my data"
# archive, opened offline): the site's CSP does not apply to them.
NOT_SERVED = {"accounts/export/head.html"}
INLINE = re.compile(
    r"<script(?![^>]*\b(src=|type=\"application/json\"))|<style|\sstyle=|\son[a-z]+=|javascript:",
    re.IGNORECASE,
)


class SecurityHeaderTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()

    def pages(self):
        return [
            "/",
            f"/p/{self.post.pk}/",
            "/u/alice/",
            "/accounts/login/",
            "/healthz",
            "/no-such-page/",
        ]

    def assert_security_headers(self, response):
        csp = response["Content-Security-Policy"]
        self.assertIn("default-src 'self'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertIn("style-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("object-src 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertIn("camera=()", response["Permissions-Policy"])
        self.assertIn("geolocation=()", response["Permissions-Policy"])
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")

    def test_signed_out_pages_carry_every_security_header(self):
        for path in self.pages():
            with self.subTest(path=path):
                self.assert_security_headers(self.client.get(path))

    def test_signed_in_pages_carry_every_security_header_and_are_private(self):
        self.client.login(username="alice", password=PASSWORD)
        for path in [*self.pages(), "/upload/", f"/p/{self.post.pk}/edit/"]:
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assert_security_headers(response)
                self.assertIn("private", response["Cache-Control"])
                self.assertNotIn("X-Accel-Expires", response)

    def test_a_signed_out_feed_stays_shareable_for_the_proxy_microcache(self):
        response = self.client.get("/")
        self.assertNotIn("private", response.get("Cache-Control", ""))
        self.assertEqual(response["X-Accel-Expires"], str(settings.PROXY_CACHE_SECONDS))

    def test_a_redirect_after_a_signed_in_post_is_private_too(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.post(f"/p/{self.post.pk}/like/", {"next": "/"})
        self.assertEqual(response.status_code, 302)
        self.assertIn("private", response["Cache-Control"])


def test_no_served_template_has_inline_script_style_or_handler():
    """The CSP allows no inline code: behaviour goes in extagram.js, looks in extagram.css."""
    offenders = []
    for root in TEMPLATE_DIRS:
        for template in root.rglob("*.html"):
            name = template.relative_to(root).as_posix()
            if name in NOT_SERVED:
                continue
            for number, line in enumerate(template.read_text().splitlines(), 1):
                if INLINE.search(line):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == []
