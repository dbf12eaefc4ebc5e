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


def test_a_new_user_signs_up_uploads_sees_the_photo_and_likes_it(page, live_server, tmp_path):
    page.goto(live_server.url)
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Email").fill("dora@example.com")
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
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
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
