"""The header's unread count is refreshed by one small request when the tab comes back
into view, at most once a minute (extagram.js, refreshUnreadCount): no polling."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_unread_count_refreshes_when_the_tab_comes_back_at_most_once_a_minute(
    browser, live_server
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from extagram.social.models import Follow

    from .conftest import VIEWPORT, csp_watched_page

    users = get_user_model().objects
    ana = users.create_user("ana", "ana@example.org", "a-long-and-unusual-pass")
    followers = [users.create_user(name) for name in ("ben", "cai", "dou")]

    page = csp_watched_page(browser.new_context(viewport=VIEWPORT))
    page.clock.install()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("a-long-and-unusual-pass")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    badge = page.locator(".notifications-link .badge")
    assert badge.count() == 0

    unread_requests = []

    def count_unread_request(request):
        if "/notifications/unread/" in request.url:
            unread_requests.append(request.url)

    page.on("request", count_unread_request)

    def tab_comes_back():
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    Follow.follow(followers[0], ana)
    tab_comes_back()  # within the minute: nothing asked
    page.wait_for_timeout(500)
    assert unread_requests == [] and badge.count() == 0

    page.clock.fast_forward("01:01")
    tab_comes_back()
    badge.wait_for()
    assert badge.inner_text().startswith("1")

    Follow.follow(followers[1], ana)
    Follow.follow(followers[2], ana)
    tab_comes_back()  # a minute has not passed since the last refresh
    page.wait_for_timeout(500)
    assert len(unread_requests) == 1 and badge.inner_text().startswith("1")

    page.clock.fast_forward("01:01")
    tab_comes_back()
    expect(badge).to_have_text(re.compile(r"^3"))
    assert len(unread_requests) == 2
    assert page.locator(".notifications-link .badge").count() == 1  # replaced, not added
    assert page.refused == [], page.refused
