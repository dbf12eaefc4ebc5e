"""The upload form in a real browser: one press sends once, with progress, and a
refusal keeps the chosen photo."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from extagram.posts.models import Post
from extagram.testing.images import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server):  # noqa: F811
    user = get_user_model().objects.create_user("erin")
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/upload/")
    yield page
    assert errors == []


def choose_photo(tab, tmp_path, data=None):
    """Pick a JPEG (`data`, bytes; a small one by default) in the form's photo field."""
    photo = tmp_path / "p.jpg"
    photo.write_bytes(data or jpeg_bytes())
    tab.get_by_label("Photo", exact=True).set_input_files(str(photo))


def test_a_double_click_on_share_sends_one_upload_and_shows_its_progress(signed_in, tmp_path):
    tab = signed_in
    choose_photo(tab, tmp_path, jpeg_bytes(1600, 1200))
    held = []
    tab.route("**/upload/", lambda route: held.append(route))  # hold the request

    share = tab.get_by_role("button", name="Share")
    share.dblclick()
    tab.wait_for_function("document.querySelector('.upload-status').hidden === false")
    assert share.is_disabled()
    assert tab.locator(".upload-status").inner_text().startswith("Sending your photo")
    share.click(force=True)  # a disabled button: nothing happens
    tab.wait_for_timeout(300)
    assert len(held) == 1

    held[0].continue_()
    tab.wait_for_url(re.compile(r"/p/\d+/$"))
    post = Post.objects.get()
    assert tab.url.endswith(f"/p/{post.pk}/")


def test_a_refused_caption_keeps_the_chosen_photo_for_the_next_try(signed_in, tmp_path):
    tab = signed_in
    choose_photo(tab, tmp_path)
    # Typing stops at maxlength; a script (or an old browser) can still go past it.
    tab.get_by_label("Caption").evaluate("box => { box.value = 'x'.repeat(2201); }")
    tab.get_by_role("button", name="Share").click()

    tab.get_by_text("at most 2200 characters").wait_for()
    # the caption names its error, which a screen reader then reads with it
    described = tab.get_by_label("Caption").get_attribute("aria-describedby").split()
    assert "at most 2200 characters" in tab.locator(f"#{described[-1]}").inner_text()
    assert tab.url.endswith("/upload/")
    assert tab.get_by_label("Photo", exact=True).evaluate("input => input.files.length") == 1
    assert not Post.objects.exists()

    tab.get_by_label("Caption").fill("Line one\nLine two")
    tab.get_by_role("button", name="Share").click()
    tab.wait_for_url(re.compile(r"/p/\d+/$"))
    assert Post.objects.get().caption == "Line one\nLine two"


# The proxy's 413 page for a body over its limit, as deploy/proxy/errors renders it.
PROXY_413 = """<!doctype html><html lang="en"><head><title>Upload too large</title></head>
<body><header><a href="/">Extagram</a></header><main><h1>Upload too large</h1>
<p>This upload is too large: the limit is 10 MB. Please choose a smaller photo.</p>
<p><a class="button" href="/">Back to the feed</a></p></main></body></html>"""


def test_a_refusal_on_a_page_of_its_own_is_shown_in_its_words_on_the_form(signed_in, tmp_path):
    tab = signed_in
    choose_photo(tab, tmp_path)
    # first a refused caption, whose error must not stay beside the next refusal
    tab.get_by_label("Caption").evaluate("box => { box.value = 'x'.repeat(2201); }")
    tab.get_by_role("button", name="Share").click()
    tab.get_by_text("at most 2200 characters").wait_for()

    tab.route(
        "**/upload/",
        lambda route: route.fulfill(status=413, content_type="text/html", body=PROXY_413),
    )
    tab.get_by_role("button", name="Share").click()
    alert = tab.locator("form .form-errors[role=alert]")
    alert.wait_for()
    assert alert.inner_text() == (
        "This upload is too large: the limit is 10 MB. Please choose a smaller photo."
    )
    assert tab.get_by_text("at most 2200 characters").count() == 0
    assert tab.locator(".field.has-error").count() == 0
    assert tab.locator(".upload-status").is_hidden()  # no "try again" beside it
    assert tab.get_by_role("button", name="Share").is_enabled()
    assert tab.get_by_label("Photo", exact=True).evaluate("input => input.files.length") == 1


def test_an_answer_that_is_no_refusal_asks_to_try_again_and_the_form_stays_usable(
    signed_in, tmp_path
):
    tab = signed_in
    choose_photo(tab, tmp_path)
    tab.route(
        "**/upload/",
        lambda route: route.fulfill(
            status=503, content_type="text/html", body="<main><h1>Back in a moment</h1></main>"
        ),
    )
    tab.get_by_role("button", name="Share").click()
    tab.get_by_text("The upload did not go through").wait_for()
    assert "try again. (Back in a moment)" in tab.locator(".upload-status").inner_text()
    assert tab.get_by_role("button", name="Share").is_enabled()
    assert tab.get_by_label("Photo", exact=True).evaluate("input => input.files.length") == 1
