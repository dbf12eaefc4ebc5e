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


@pytest.fixture
def page(browser):
    return browser.new_context(viewport=VIEWPORT).new_page()
