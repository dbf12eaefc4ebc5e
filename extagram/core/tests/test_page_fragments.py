"""{% fragment %} (the page's header and footer, rendered once per process) gives byte for
byte what its body renders, for every member, language, unread count and script prefix, and
each visitor's own CSRF token; a member never sees another member's header."""

import re

from django.contrib.auth.models import AnonymousUser
from django.middleware.csrf import get_token
from django.template import Context, Template, TemplateSyntaxError, engines
from django.test import Client, RequestFactory
from django.test.utils import override_script_prefix
from django.utils import translation

from extagram.core.templatetags import fragments
from extagram.social.models import Notification
from extagram.testing.base import PASSWORD, BaseTestCase

FRAGMENT_TAGS = re.compile(r"\{% (end)?fragment[^%]*%\}")
BADGE = '<span class="badge">1<'
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def header(html):
    return html.split("</header>")[0]


def base_without_fragments():
    """base.html as it would be without its {% fragment %} tags: the reference rendering."""
    engine = engines["django"].engine
    return engine.from_string(FRAGMENT_TAGS.sub("", engine.get_template("base.html").source))


class FragmentTagTests(BaseTestCase):
    def setUp(self):
        fragments.RENDERED.clear()
        self.template = Template(
            "{% load fragments %}{% fragment name %}<p>{{ name }} {{ other }}</p>"
            '<form method="post">{% csrf_token %}</form>{% endfragment %}'
        )

    def render(self, **context):
        return self.template.render(Context(context))

    def test_it_puts_each_visitors_own_token_in_a_reused_fragment(self):
        first = self.render(name="alice", csrf_token="first-token")
        second = self.render(name="alice", csrf_token="second-token")
        self.assertIn('value="first-token"', first)
        self.assertIn('value="second-token"', second)
        self.assertNotIn("first-token", second)
        self.assertEqual(len(fragments.RENDERED), 1)

    def test_a_visitor_without_a_token_gets_no_token_input_as_django_renders_it(self):
        self.render(name="alice", csrf_token="first-token")
        self.assertEqual(self.render(name="alice"), '<p>alice </p><form method="post"></form>')

    def test_it_renders_anew_for_each_vary_on_value_language_and_script_prefix(self):
        self.assertIn("alice", self.render(name="alice"))
        self.assertIn("bob", self.render(name="bob"))
        with translation.override("es"):
            self.render(name="bob")
        with override_script_prefix("/extagram/"):
            self.render(name="bob")
        self.assertEqual(len(fragments.RENDERED), 4)

    def test_what_it_does_not_vary_on_is_kept_from_its_first_rendering(self):
        # the reason every value a fragment shows must be among its vary-on values
        self.assertIn("alice one", self.render(name="alice", other="one"))
        self.assertIn("alice one", self.render(name="alice", other="two"))

    def test_it_refuses_a_vary_on_value_that_cannot_be_a_key(self):
        with self.assertRaises(TypeError):
            self.render(name=["a", "list"])

    def test_it_refuses_a_block_inside_it(self):
        # the fragment is kept per base template: a child template's block could not show
        with self.assertRaises(TemplateSyntaxError):
            Template(
                "{% load fragments %}{% fragment %}{% block a %}{% endblock %}{% endfragment %}"
            )

    def test_the_memo_is_bounded(self):
        for n in range(fragments.RENDERED.kept + 10):
            self.render(name=n)
        self.assertLessEqual(len(fragments.RENDERED), fragments.RENDERED.kept)


class PageChromeTests(BaseTestCase):
    """base.html's header and footer through {% fragment %} against the same template
    without the tags."""

    def setUp(self):
        fragments.RENDERED.clear()
        self.reference = base_without_fragments()

    def page(self, user, unread):
        request = RequestFactory().get("/explore/")
        request.user = user
        request._messages = []
        token = get_token(request)
        context = {"unread_notifications": unread, "unread_shown": 99, "csrf_token": token}
        chrome = engines["django"].get_template("base.html")
        return (
            chrome.render(context, request),
            self.reference.render(
                Context({**context, "request": request, "user": user, "messages": []})
            ),
            token,
        )

    def test_the_header_and_footer_are_the_templates_own_for_everyone(self):
        for language in ("en", "es", "ca"):
            for user in (self.owner, self.stranger, AnonymousUser()):
                for unread in (0, 3, 150):
                    with (
                        translation.override(language),
                        self.subTest(language=language, user=user, unread=unread),
                    ):
                        with_fragments, reference, token = self.page(user, unread)
                        self.assertEqual(with_fragments, reference)
                        if user.is_authenticated:
                            self.assertIn(f'value="{token}"', with_fragments)

    def test_under_another_script_prefix_the_links_carry_it(self):
        self.page(self.owner, 0)
        with override_script_prefix("/extagram/"):
            with_fragments, reference, _ = self.page(self.owner, 0)
        self.assertEqual(with_fragments, reference)
        self.assertIn('href="/extagram/explore/"', with_fragments)


class EachMembersHeaderTests(BaseTestCase):
    """Through the whole stack of middleware: pages in turn for two members and a visitor."""

    def setUp(self):
        fragments.RENDERED.clear()

    def signed_in(self, username):
        client = Client(enforce_csrf_checks=True)
        client.login(username=username, password=PASSWORD)
        return client

    def test_each_member_sees_their_own_name_count_and_token(self):
        alice, bob = self.signed_in("alice"), self.signed_in("bob")
        Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
        for _ in range(2):
            for client, me, other in ((alice, "alice", "bob"), (bob, "bob", "alice")):
                html = client.get("/explore/").content.decode()
                self.assertIn(f'href="/u/{me}/"', html)
                self.assertNotIn(f'href="/u/{other}/"', html)
                self.assertEqual(BADGE in header(html), me == "alice")
                token = TOKEN.search(html).group(1)
                self.assertEqual(
                    client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code,
                    302,
                )
                client.login(username=me, password=PASSWORD)
        anonymous = Client().get("/explore/").content.decode()
        self.assertNotIn("csrfmiddlewaretoken", header(anonymous))
        self.assertIn('href="/accounts/login/"', anonymous)

    def test_a_new_notification_shows_in_the_header_at_once(self):
        alice = self.signed_in("alice")
        self.assertNotIn(BADGE, header(alice.get("/explore/").content.decode()))
        Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
        self.assertIn(BADGE, header(alice.get("/explore/").content.decode()))
