"""One real browser walks the main flow: sign up, upload, see, like.

Headless Chromium from Debian's packages, driven by Playwright (conftest.py).
A screenshot of the feed is saved to test-artifacts/feed.png.
"""

import re
from pathlib import Path

import pytest

from extagram.testing.images import jpeg_with_gps_and_orientation

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shows_its_pixels(page, image):
    """Wait until `image` (a Locator of an <img>) has loaded with pixels: a broken image
    never does (complete, with no natural width), so this times out (30 s) and fails.
    Checking once right after the element appears raced its download."""
    loaded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=image.element_handle())


def test_a_new_user_signs_up_uploads_sees_the_photo_and_likes_it(page, live_server, tmp_path):
    page.goto(live_server.url)
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("dora")
    page.get_by_label("E-mail").fill("dora@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-and-unusual-pass")
    page.get_by_label("Password (again)").fill("a-long-and-unusual-pass")
    page.get_by_role("button", name="Create account").click()
    welcome = page.get_by_text("Welcome to Extagram, dora!")
    welcome.wait_for()  # the sign-up's redirect may still be loading on a busy machine
    assert welcome.is_visible()

    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(jpeg_with_gps_and_orientation(1200, 900))
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Photo", exact=True).set_input_files(str(photo))
    page.get_by_label("Caption").fill("Hello from a real browser")
    page.get_by_label("alt text").fill("A red square on blue")
    page.get_by_role("button", name="Share").click()
    page.wait_for_url(re.compile(r"/p/\d+/$"))  # sent in the background, then the post opens

    page.get_by_role("link", name="Extagram").click()
    image = page.get_by_role("img", name="A red square on blue")
    image.wait_for()
    shows_its_pixels(page, image)
    assert page.get_by_text("Hello from a real browser").is_visible()

    like = page.locator("form.like-form button").first
    like.click()
    page.wait_for_selector("form.like-form button[aria-pressed=true]")
    assert page.locator(".like-count").first.inner_text() == "1 like"
    page.reload()
    assert page.locator("form.like-form button").first.get_attribute("aria-pressed") == "true"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feed.png"), full_page=True)


def test_scrolling_down_loads_older_posts_without_a_click(page, live_server, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.FEED_PAGE_SIZE = 4
    call_command("seed_posts", posts=10, users=2, photos=2, stdout=StringIO())
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url)
    assert page.locator("article.post-card").count() == 4
    for _ in range(10):
        page.mouse.wheel(0, 20000)
        page.wait_for_timeout(300)
        if page.locator("article.post-card").count() == 10:
            break
    assert page.locator("article.post-card").count() == 10
    assert page.locator("a[rel=next]").count() == 0
    assert errors == []


def test_a_second_member_follows_the_first_likes_their_photo_and_the_first_is_notified(
    browser, live_server
):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from extagram.posts.models import Post
    from extagram.testing.images import jpeg_bytes
    from extagram.uploads.images import process_photo

    from .conftest import VIEWPORT, csp_watched_page

    users = get_user_model().objects
    first = users.create_user("ana", "ana@example.org", "a-long-and-unusual-pass")
    users.create_user("ben", "ben@example.org", "a-long-and-unusual-pass")
    photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(800, 600)), max_pixels=10**7)
    Post.objects.create_with_photo(first, photo, caption="Harbour #sunset", alt_text="A harbour")

    def signed_in(username):
        page = csp_watched_page(browser.new_context(viewport=VIEWPORT))
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("a-long-and-unusual-pass")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Log out").wait_for()
        return page

    ben = signed_in("ben")
    ben.goto(live_server.url)
    assert ben.get_by_text("Your home feed is empty").is_visible()
    ben.locator(".empty .people").get_by_role("link", name="ana").click()
    ben.get_by_role("button", name="Follow ana").click()
    ben.get_by_role("button", name="Following ana").wait_for()  # in place, by the script
    assert ben.locator("[data-follower-count]").inner_text() == "1 follower"

    ben.get_by_role("link", name="Extagram").click()
    image = ben.get_by_role("img", name="A harbour")
    image.wait_for()
    shows_its_pixels(ben, image)
    ben.locator("form.like-form button").first.click()
    ben.wait_for_selector("form.like-form button[aria-pressed=true]")

    ana = signed_in("ana")
    badge = ana.locator(".notifications-link .badge")
    assert badge.inner_text().startswith("2")
    ana.get_by_role("link", name="Notifications").click()
    assert ana.get_by_text("liked your post.").is_visible()
    assert ana.get_by_text("started following you.").is_visible()
    assert ana.locator(".notifications-link .badge").count() == 0  # read once seen
    assert ben.refused == [] and ana.refused == [], (ben.refused, ana.refused)
