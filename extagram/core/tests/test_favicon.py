"""`/favicon.ico`, asked for by browsers and other clients whatever the page names: the
site's icon, not a 404."""

from django.contrib.staticfiles import finders
from PIL import Image

from extagram.testing.base import PASSWORD, BaseTestCase


class FaviconTests(BaseTestCase):
    def test_it_leads_to_the_icon_file_and_may_be_kept_for_a_day(self):
        response = self.client.get("/favicon.ico")
        self.assertEqual(response.status_code, 302)
        self.assertRegex(response["Location"], r"^/static/extagram/favicon(\.\w+)?\.ico$")
        self.assertIn("max-age=86400", response["Cache-Control"])

    def test_the_icon_is_an_ico_of_the_logo_in_three_sizes(self):
        with Image.open(finders.find("extagram/favicon.ico")) as icon:
            self.assertEqual(icon.format, "ICO")
            self.assertEqual(icon.info["sizes"], {(16, 16), (32, 32), (48, 48)})

    def test_a_member_is_led_there_too(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get("/favicon.ico").status_code, 302)

    def test_pages_and_error_pages_name_the_svg_logo_as_their_icon(self):
        for path in ("/", "/no-such-page/"):
            response = self.client.get(path)
            self.assertContains(
                response, 'rel="icon" href="/static/extagram/logo', status_code=response.status_code
            )
