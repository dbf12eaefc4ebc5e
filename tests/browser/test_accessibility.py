"""Accessibility audit: axe-core in a real browser on every page in PAGES.

axe-core comes from the npm registry (tests/browser/package.json, pinned in its
package-lock.json), installed into the git-ignored tests/browser/node_modules by
`make test` and `.ci/run` (`npm ci --prefix tests/browser`). The rules are WCAG 2.0
and 2.1, levels A and AA, plus axe's best practices; the expected result is no
violation at all. The pages run under the site's real Content-Security-Policy, and a
page whose CSP refuses anything (an inline script or style) fails too.

To audit a new page, add a line to PAGES.
"""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import IN_CI
from extagram.posts.models import Comment, Post
from extagram.social.models import Follow
from extagram.testing.images import jpeg_bytes

from .conftest import VIEWPORT, csp_watched_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

# (what, who is signed in: None, "owner" or "friend", the path from the test data)
PAGES = [
    ("feed, signed out", None, lambda d: reverse("feed")),
    ("feed, signed in", "owner", lambda d: reverse("feed")),
    ("post, signed out", None, lambda d: d["post"].get_absolute_url()),
    ("post, its owner", "owner", lambda d: d["post"].get_absolute_url()),
    ("profile", None, lambda d: reverse("profile", args=[d["owner"].username])),
    ("upload", "owner", lambda d: reverse("upload")),
    ("sign-up", None, lambda d: reverse("signup")),
    ("log-in", None, lambda d: reverse("login")),
    ("password change", "owner", lambda d: reverse("password_change")),
    ("account settings", "owner", lambda d: reverse("account_settings")),
    ("e-mail addresses", "owner", lambda d: reverse("account_email")),
    ("password reset", None, lambda d: reverse("account_reset_password")),
    ("two-factor", "owner", lambda d: reverse("mfa_index")),
    ("download my data", "owner", lambda d: reverse("account_export")),
    ("delete account", "owner", lambda d: reverse("account_delete")),
    ("change username", "owner", lambda d: reverse("account_username")),
    ("confirm your password", "owner", lambda d: reverse("account_reauthenticate")),
    ("new password from a reset link", None, lambda d: d["reset_link"]),
    ("edit post", "owner", lambda d: reverse("edit_post", args=[d["post"].pk])),
    ("delete post", "owner", lambda d: reverse("delete_post", args=[d["post"].pk])),
    ("page not found", None, lambda d: "/no-such-page/"),
    ("home, following nobody yet", "friend", lambda d: reverse("feed")),
    ("explore", "owner", lambda d: reverse("explore")),
    ("profile, with a follow button", "friend", lambda d: reverse("profile", args=["alice"])),
    ("followers", None, lambda d: reverse("followers", args=["alice"])),
    ("following", None, lambda d: reverse("following", args=["bruno"])),
    ("notifications", "owner", lambda d: reverse("notifications")),
    ("tag page", None, lambda d: reverse("tag", args=["sunset"])),
    ("search", None, lambda d: reverse("search") + "?q=al"),
    ("edit profile", "owner", lambda d: reverse("edit_profile")),
]

AUDIT = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


def axe_source():
    if not AXE.is_file():
        message = f"axe-core is not installed ({AXE}): npm ci --prefix tests/browser"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


def site_data():
    """An owner with a captioned, commented post, a second member, and a password-reset
    link for the owner such as the reset mail carries."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    from extagram.uploads.images import process_photo

    users = get_user_model().objects
    owner = users.create_user("alice", "alice@example.org", "a-long-and-unusual-pass")
    friend = users.create_user("bruno", "bruno@example.org", "a-long-and-unusual-pass")
    photo = process_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(800, 600)), max_pixels=10**7)
    post = Post.objects.create_with_photo(owner, photo, caption="#Sunset at the beach")
    Comment.objects.create(post=post, author=friend, body="Lovely colours, @alice!")
    Follow.follow(owner, friend)
    reset_link = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(owner),
            "key": default_token_generator.make_token(owner),
        },
    )
    return {"owner": owner, "friend": friend, "post": post, "reset_link": reset_link}


def visitor(browser, live_server, user=None):
    """A browser page, signed in as `user` (a session made by Django) or signed out."""
    context = browser.new_context(viewport=VIEWPORT)
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
    return csp_watched_page(context)


def test_every_audited_page_has_no_axe_violation_and_nothing_refused_by_the_csp(
    browser, live_server
):
    source = axe_source()
    data = site_data()
    pages = {
        None: visitor(browser, live_server),
        "owner": visitor(browser, live_server, data["owner"]),
        "friend": visitor(browser, live_server, data["friend"]),
    }
    found = {}
    for what, who, path in PAGES:
        page = pages[who]
        page.refused.clear()
        page.dom_advice.clear()
        page.goto(live_server.url + path(data))
        page.wait_for_load_state("load")
        page.evaluate(source)  # DevTools evaluation: not an inline script, so no CSP exception
        violations = page.evaluate(AUDIT, AXE_TAGS)
        if violations or page.refused or page.dom_advice:
            found[f"{what} ({path(data)})"] = {
                "axe": violations,
                "csp": list(page.refused),
                "dom": list(page.dom_advice),
            }
    assert found == {}
