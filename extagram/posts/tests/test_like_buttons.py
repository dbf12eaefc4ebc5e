"""Like buttons stamped once per page (extagram/posts/cards.py, LikeButtons) are byte for
byte what `posts/_like_form.html` renders for each post, signed in and out, liked or not,
in every language, whatever the page's path; each member sees their own like marks."""

import re

from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import override_script_prefix
from django.utils import translation

from extagram.posts.cards import STAMPS, STAND_IN_PK, LikeButtons
from extagram.posts.models import Like, Post
from extagram.testing.base import PASSWORD, BaseTestCase

PATHS = [
    "/",
    "/explore/?before=42",
    f"/explore/?x=/p/{STAND_IN_PK}/&y=%22<b>&z=#post-{STAND_IN_PK}",
    "/tags/caf%C3%A9/?q=\"'&amp;",
]


class LikeButtonTests(BaseTestCase):
    def setUp(self):
        self.posts = [self.make_post() for _ in range(2)]

    def request(self, path, user):
        request = RequestFactory().get(path)
        request.user = user
        return request

    def template_button(self, request, post, token):
        context = {"user": request.user, "page_path": request.get_full_path(), "post": post}
        if request.user.is_authenticated:
            context["csrf_token"] = token  # one masked token per page, as before
        return render_to_string("posts/_like_form.html", context)

    def test_each_button_is_the_templates_own_rendering(self):
        counts = [0, 1, 2, 1234, 1_000_000]
        for language in ("en", "es", "ca"):
            for user in (self.stranger, AnonymousUser()):
                for path in PATHS:
                    with translation.override(language):
                        request = self.request(path, user)
                        buttons = LikeButtons(request)
                        for count in counts:
                            for liked in (False, True):
                                post = Post(pk=self.posts[0].pk + count, like_count=count)
                                post.liked = liked
                                with self.subTest(language=language, path=path, count=count):
                                    token = getattr(buttons, "csrf_token", None)
                                    expected = self.template_button(request, post, token)
                                    self.assertEqual(buttons.render(post), expected)

    def test_the_page_path_is_escaped_once_and_never_rewritten(self):
        path = PATHS[2]
        button = LikeButtons(self.request(path, self.stranger)).render(self.posts[0])
        # the stand-in's id in the visitor's own path stays as it was; & escaped once
        self.assertIn(f'value="/explore/?x=/p/{STAND_IN_PK}/&amp;y=%22%3Cb%3E&amp;z=#post-', button)
        self.assertIn(f'action="/p/{self.posts[0].pk}/like/"', button)
        self.assertIn(f'#post-{self.posts[0].pk}">', button)

    def test_members_see_their_own_like_marks_on_the_feed(self):
        Like.toggle(self.posts[0], self.stranger)
        pressed = re.compile(r'action="/p/(\d+)/like/".*?aria-pressed="(true|false)"', re.S)
        for username, liked in (("bob", {self.posts[0].pk}), ("alice", set())):
            self.client.login(username=username, password=PASSWORD)
            page = self.client.get("/explore/").content.decode()
            marks = {int(pk): state == "true" for pk, state in pressed.findall(page)}
            self.assertEqual(set(marks), {post.pk for post in self.posts})
            self.assertEqual({pk for pk, on in marks.items() if on}, liked)

    def test_the_buttons_carry_the_visitors_csrf_token_and_csrf_is_still_enforced(self):
        self.client.login(username="bob", password=PASSWORD)
        page = self.client.get("/explore/").content.decode()
        self.assertIn('name="csrfmiddlewaretoken"', page)
        strict = self.client_class(enforce_csrf_checks=True)
        strict.login(username="bob", password=PASSWORD)
        response = strict.post(f"/p/{self.posts[0].pk}/like/", {"next": "/"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Like.objects.exists())

    def test_a_process_renders_each_state_once_and_each_page_gets_its_visitors_own_token(self):
        STAMPS.clear()
        pages = []
        for user in (self.stranger, self.owner, self.stranger):
            buttons = LikeButtons(self.request("/explore/", user))
            html = "".join(buttons.render(post) for post in self.posts)
            pages.append((buttons.csrf_token, html))
        self.assertEqual(len(STAMPS), 1)  # en, signed in, not liked
        for token, html in pages:
            self.assertEqual(html.count(f'value="{token}"'), len(self.posts))
            self.assertNotIn("marker", html)
        self.assertEqual(len({token for token, _ in pages}), 3)

    def test_a_page_served_under_another_script_prefix_links_its_own_posts(self):
        # a process may serve more than one script prefix (WSGI's SCRIPT_NAME): the stamps
        # and the cached cards rendered under one must not give the other's pages its URLs
        STAMPS.clear()
        self.client.force_login(self.stranger)
        self.client.get("/explore/")
        with override_script_prefix("/sub/"):
            page = self.client.get("/explore/").content.decode()
        self.assertNotIn(str(STAND_IN_PK), page)
        for post in self.posts:
            self.assertIn(f'action="/sub/p/{post.pk}/like/"', page)
            self.assertIn(f'href="/sub/p/{post.pk}/"', page)
            self.assertNotIn(f'href="/p/{post.pk}/', page)
