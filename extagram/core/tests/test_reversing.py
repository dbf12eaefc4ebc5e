"""URLs kept per process (extagram.core.reversing) are exactly Django's reverse(), for
every argument, script prefix and language, in Python and through {% url %}; errors stay
errors and nothing but plain strings and ints is kept."""

from django import urls
from django.template import Context, Template, TemplateSyntaxError
from django.test import SimpleTestCase
from django.test.utils import override_script_prefix
from django.utils import translation

from extagram.core import reversing

CASES = [
    ("feed", [], {}),
    ("post_detail", [1], {}),
    ("post_detail", [98_765_432_101], {}),
    ("profile", ["alice"], {}),
    ("profile", ["ñandú_2"], {}),
    ("profile", ["a b?c#d"], {}),
    ("profile", [], {"username": "bob"}),
    ("toggle_like", [7], {}),
    ("admin:index", [], {}),
]


class ReverseTests(SimpleTestCase):
    def setUp(self):
        reversing.REVERSED.clear()

    def test_it_is_djangos_reverse_for_every_prefix_and_language(self):
        for prefix in ("/", "/extagram/", "/a b/"):
            for language in ("en", "es", "ca"):
                with override_script_prefix(prefix), translation.override(language):
                    for name, args, kwargs in CASES:
                        expected = urls.reverse(name, args=args, kwargs=kwargs)
                        for _ in range(2):  # made, then kept
                            with self.subTest(prefix=prefix, name=name, args=args):
                                self.assertEqual(reversing.reverse(name, args, kwargs), expected)

    def test_a_url_kept_under_one_prefix_is_not_given_under_another(self):
        self.assertEqual(reversing.reverse("post_detail", [3]), "/p/3/")
        with override_script_prefix("/extagram/"):
            self.assertEqual(reversing.reverse("post_detail", [3]), "/extagram/p/3/")

    def test_errors_are_djangos_and_not_kept(self):
        for name, args in (("post_detail", ["x"]), ("profile", ["a/b"]), ("no-such-view", [])):
            with self.subTest(name=name), self.assertRaises(urls.NoReverseMatch):
                reversing.reverse(name, args)
        self.assertEqual(len(reversing.REVERSED), 0)

    def test_only_plain_strings_and_ints_are_kept(self):
        reversing.reverse("post_detail", [1])
        # True == 1 as a dict key, but Django writes "True": no match for an int converter
        with self.assertRaises(urls.NoReverseMatch):
            reversing.reverse("post_detail", [True])
        lazy = translation.gettext_lazy("feed")
        reversing.reverse("profile", [lazy])
        self.assertEqual(len(reversing.REVERSED), 1)


class UrlTagTests(SimpleTestCase):
    def setUp(self):
        reversing.REVERSED.clear()

    def render(self, source, **context):
        return Template(source).render(Context(context))

    def test_the_tag_is_ours_and_gives_djangos_urls(self):
        source = "{% url name arg %}|{% url 'profile' username=arg2 %}"
        for name, arg in (("post_detail", 5), ("profile", "ñandú")):
            with self.subTest(name=name):
                expected = (
                    f"{urls.reverse(name, args=[arg])}|{urls.reverse('profile', args=['x&y'])}"
                )
                expected = expected.replace("x&y", "x&amp;y")
                self.assertEqual(self.render(source, name=name, arg=arg, arg2="x&y"), expected)
        self.assertGreater(len(reversing.REVERSED), 0)

    def test_as_var_swallows_a_miss_and_a_plain_tag_raises_it(self):
        source = "{% url 'post_detail' 'x' as link %}[{{ link }}]"
        self.assertEqual(self.render(source), "[]")
        with self.assertRaises(urls.NoReverseMatch):
            self.render("{% url 'post_detail' 'x' %}")

    def test_its_syntax_is_djangos(self):
        with self.assertRaises(TemplateSyntaxError):
            Template("{% url %}")


class NewUrlconfTests(SimpleTestCase):
    def test_a_new_root_urlconf_empties_the_memo(self):
        reversing.reverse("post_detail", [1])
        self.assertGreater(len(reversing.REVERSED), 0)
        with self.settings(ROOT_URLCONF="extagram.urls"):
            self.assertEqual(len(reversing.REVERSED), 0)
