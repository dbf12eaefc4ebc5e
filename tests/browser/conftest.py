"""A headless Chromium for the browser tests: Debian's `chromium` package driven by
Playwright with its executable pointed at the system browser (nothing is downloaded).
Without Chromium or Playwright the tests skip; with CI=true that is a failure."""

import os
import shutil

import pytest

from conftest import IN_CI

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1000, "height": 1200}


def chromium_path():
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and shutil.which(candidate):
            return candidate
    message = "Chromium is not installed (apt-get install chromium)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser(monkeypatch):
    """A launched headless Chromium (Playwright Browser); new_context() for each visitor."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM is only
    # used around it (test data set-up and flush), never concurrently.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


def csp_watched_page(context):
    """A new page whose `refused` list collects what the Content-Security-Policy blocked
    (Chromium reports each refusal on the console), and whose `dom_advice` list collects
    Chromium's advice on the page's markup (its "[DOM]" console lines: a password form
    that names no account, say)."""
    page = context.new_page()
    page.refused = []
    page.dom_advice = []

    def watch(message):
        if "Content Security Policy" in message.text:
            page.refused.append(message.text)
        elif message.text.startswith("[DOM]"):
            page.dom_advice.append(message.text)

    page.on("console", watch)
    return page


@pytest.fixture
def page(browser):
    """A signed-out page; the test fails if the site's CSP refused anything on it."""
    page = csp_watched_page(browser.new_context(viewport=VIEWPORT))
    yield page
    assert page.refused == [], f"the Content-Security-Policy refused: {page.refused}"
