"""Every name fits every page: the longest handle and display name on a 390-px phone.

For each page: nothing makes the document wider than the screen
(document.documentElement.scrollWidth <= innerWidth) and, signed in, the "Log out"
button is inside the screen.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from extagram.accounts.models import Profile
from extagram.accounts.usernames import DISPLAY_NAME_MAX, HANDLE_MAX
from extagram.posts.models import Comment, Post
from extagram.testing.images import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# "W" and "M" are the widest Latin letters; the display names have no break opportunity.
LONG_HANDLE = "w" * HANDLE_MAX
OTHER_HANDLE = "m" * HANDLE_MAX
LONG_DISPLAY = "W" * DISPLAY_NAME_MAX
WIDE_DISPLAY = "Ｗ" * DISPLAY_NAME_MAX  # full-width letters, twice as wide again


def site_data():
    from extagram.uploads.images import process_photo

    users = get_user_model().objects
    me = users.create_user(
        LONG_HANDLE, "w@example.org", "a-long-and-unusual-pass", is_staff=True, is_superuser=True
    )
    other = users.create_user(OTHER_HANDLE, "m@example.org", "a-long-and-unusual-pass")
    third = users.create_user("zz", "zz@example.org", "a-long-and-unusual-pass")
    Profile.objects.filter(user=me).update(display_name=LONG_DISPLAY)
    Profile.objects.filter(user=third).update(display_name=WIDE_DISPLAY)
    photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(800, 600)), max_pixels=10**7)
    post = Post.objects.create_with_photo(me, photo, caption="x" * 300)
    other_photo = process_photo(
        SimpleUploadedFile("q.jpg", jpeg_bytes(600, 800, color=(9, 9, 9))), max_pixels=10**7
    )
    Post.objects.create_with_photo(other, other_photo, caption="short")
    for author in (me, other, third):
        Comment.objects.create(post=post, author=author, body="y" * 200)
    return me, post


def signed_in(browser, live_server, user):
    context = browser.new_context(viewport=PHONE)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
    return context.new_page()


def overflow(page):
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")


def test_no_page_scrolls_sideways_on_a_phone_with_the_longest_names(browser, live_server):
    me, post = site_data()
    pages = {
        "me": [
            "/",
            post.get_absolute_url(),
            f"/u/{LONG_HANDLE}/",
            f"/u/{OTHER_HANDLE}/",
            "/u/zz/",
            "/upload/",
            f"/p/{post.pk}/edit/",
            "/accounts/settings/",
            "/accounts/username/",
            "/accounts/email/",
            "/accounts/password/change/",
            "/accounts/2fa/",
            "/accounts/export/",
            "/accounts/delete/",
            "/admin/auth/user/",
            f"/admin/auth/user/{me.pk}/change/",
            "/admin/posts/post/",
        ],
        None: [
            "/",
            f"/u/{LONG_HANDLE}/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
        ],
    }
    wide, hidden_logout = {}, []
    for who, paths in pages.items():
        page = signed_in(browser, live_server, me if who else None)
        for path in paths:
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            width, screen = overflow(page)
            if width > screen:
                wide[f"{who or 'signed out'} {path}"] = width
            if who and not path.startswith("/admin/"):
                box = page.get_by_role("button", name="Log out").bounding_box()
                if not box or box["x"] < 0 or box["x"] + box["width"] > screen:
                    hidden_logout.append((path, box))
        page.context.close()
    assert wide == {}, f"pages wider than the {PHONE['width']}-px screen: {wide}"
    assert hidden_logout == [], f"'Log out' off screen: {hidden_logout}"


def test_the_header_truncates_a_long_handle_with_an_ellipsis(browser, live_server):
    me, _ = site_data()
    page = signed_in(browser, live_server, me)
    page.goto(live_server.url + "/")
    link = page.locator("nav .me a")
    style = link.evaluate("a => [getComputedStyle(a).textOverflow, a.scrollWidth > a.clientWidth]")
    assert style == ["ellipsis", True]
    assert link.get_attribute("title") == LONG_HANDLE


def test_the_authenticator_page_fits_a_phone_and_its_qr_code_passes_the_csp(browser, live_server):
    me, _ = site_data()
    page = signed_in(browser, live_server, me)
    refused = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(live_server.url + "/accounts/2fa/totp/activate/")
    page.get_by_label("Password").fill("a-long-and-unusual-pass")  # allauth asks first
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/2fa/totp/activate/")
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    qr.wait_for()
    assert qr.locator("svg").bounding_box()["width"] >= 150
    width, screen = overflow(page)
    assert width <= screen
    assert refused == []


def test_the_post_owners_edit_and_delete_links_keep_off_a_phones_edges(browser, live_server):
    # cards go edge to edge on a phone; the links below them were flush with its edge
    me, post = site_data()
    page = signed_in(browser, live_server, me)
    page.goto(live_server.url + post.get_absolute_url())
    screen = page.evaluate("() => window.innerWidth")
    for name in ("Edit", "Delete"):
        box = page.locator(".owner-actions").get_by_role("link", name=name).bounding_box()
        assert box["x"] >= 8 and box["x"] + box["width"] <= screen - 8, (name, box)
