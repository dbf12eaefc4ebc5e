"""#tags, @mentions and URLs in tricky text: found exactly, always escaped."""

from django.template import Context, Template
from django.test import SimpleTestCase

from extagram.social.text import mentions_in, render, tags_in, tokens


class TagAndMentionParsingTests(SimpleTestCase):
    def test_tags_end_at_punctuation(self):
        self.assertEqual(
            tags_in("Sunset! #beach, #sea. (#sky) #sun;"), {"beach", "sea", "sky", "sun"}
        )

    def test_tags_in_any_script_are_case_folded(self):
        self.assertEqual(
            tags_in("#Café #CAFÉ #日本 #Straße #ГОРОД"), {"café", "日本", "strasse", "город"}
        )

    def test_a_tag_needs_a_letter_and_a_space_or_start_before_it(self):
        self.assertEqual(tags_in("#1 #2024 a#b ##double x&#39; #ok1"), {"ok1"})

    def test_a_tag_longer_than_the_column_once_case_folded_is_not_a_tag(self):
        self.assertEqual(tags_in("#" + "ß" * 40 + " #" + "ß" * 32), {"ss" * 32})

    def test_a_hash_inside_a_url_is_part_of_the_url(self):
        text = "see https://example.com/page#section and example.org/#top and #real"
        self.assertEqual(tags_in(text), {"real"})
        kinds = [kind for kind, _piece, _value in tokens(text)]
        self.assertEqual(kinds.count("url"), 1)

    def test_the_at_of_an_email_address_is_not_a_mention(self):
        self.assertEqual(mentions_in("write to bob@example.com or @alice"), {"alice"})

    def test_mentions_end_at_punctuation_and_are_canonical(self):
        self.assertEqual(
            mentions_in("thanks @Bob. and @ana.maria, @x_y!"), {"bob", "ana.maria", "x_y"}
        )

    def test_ill_formed_handles_are_not_mentions(self):
        self.assertEqual(mentions_in("@ @. @a..b @" + "w" * 31), set())

    def test_a_handle_with_a_dot_at_its_start_is_not_a_mention(self):
        self.assertEqual(mentions_in("@.carla1 and @..x and @_ok"), {"_ok"})

    def test_a_run_that_is_not_a_handle_is_no_mention_not_a_shorter_one(self):
        self.assertEqual(mentions_in("@josé @日本 @ana・b"), {"ana"})  # ・ is punctuation
        # canonical first, as for sign-ups: Straße is the handle strasse (usernames.py)
        self.assertEqual(mentions_in("@Straße"), {"strasse"})

    def test_full_width_mentions_are_canonical(self):
        self.assertEqual(mentions_in("hola @ＢＲＵＮＯ１ y ＠ＡＮＡ"), {"bruno1", "ana"})
        html = render("hola @ＢＲＵＮＯ１!")
        self.assertIn('<a class="mention" href="/u/bruno1/">@ＢＲＵＮＯ１</a>!', html)

    def test_reserved_names_are_not_mentions(self):
        self.assertEqual(
            mentions_in("@admin @explore @staff2 @javascript:alert(1)"), {"javascript"}
        )

    def test_tokens_give_the_text_back_exactly(self):
        text = "a #b @c https://d.example/#e. f@g.h &#39; <i>"
        self.assertEqual("".join(piece for _kind, piece, _value in tokens(text)), text)


class RenderingTests(SimpleTestCase):
    def test_html_like_text_is_escaped_and_tags_are_linked(self):
        html = render('<script>alert(1)</script> #fun "@bob" & done')
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)
        self.assertIn('<a class="tag" href="/tags/fun/">#fun</a>', html)
        self.assertIn('&quot;<a class="mention" href="/u/bob/">@bob</a>&quot;', html)
        self.assertIn("&amp; done", html)

    def test_an_escaped_apostrophe_never_becomes_a_tag(self):
        html = render("it's #ok")
        self.assertEqual(html.count("<a "), 1)
        self.assertIn("it&#x27;s", html)

    def test_a_tag_link_is_percent_encoded(self):
        self.assertIn('href="/tags/caf%C3%A9/"', render("#Café"))

    def test_a_tag_that_tries_to_break_out_of_the_attribute_cannot(self):
        html = render('#a"onmouseover=alert(1)')
        self.assertIn('<a class="tag" href="/tags/a/">#a</a>&quot;onmouseover=alert(1)', html)

    def test_urls_are_linked_only_in_bios_with_nofollow(self):
        self.assertNotIn("<a", render("https://example.com/x"))
        html = render("see www.example.com/a?b=1&c=2.", link_urls=True)
        self.assertIn(
            '<a href="https://www.example.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
            "www.example.com/a?b=1&amp;c=2</a>.",
            html,
        )

    def test_a_javascript_url_is_never_a_link(self):
        self.assertNotIn("<a", render("javascript:alert(1)", link_urls=True))

    def test_the_template_filter_keeps_line_breaks_and_escapes(self):
        template = Template("{% load social %}{{ text|social_links|linebreaksbr }}")
        html = template.render(Context({"text": "one #two\n<b>three</b>"}))
        self.assertEqual(
            html, 'one <a class="tag" href="/tags/two/">#two</a><br>&lt;b&gt;three&lt;/b&gt;'
        )
