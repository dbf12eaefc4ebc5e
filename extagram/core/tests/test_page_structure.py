"""Every HTML page the walker reaches, as every role, is well formed in the ways a browser
or a screen reader depends on; one walk of the site checks them all, so a page added later
is checked too (the admin is Django's and is left out):

- exactly one level-one heading (axe-core's page-has-heading-one, which the post page
  once failed);
- no block (a list, a div, a form...) inside a paragraph: an HTML parser closes the <p>
  at the block's start tag, so the page's structure is not the one written (the sign-up
  form's password help once put Django's <ul> of rules in a <p>). The elements are those
  whose start tag ends an open paragraph, from the HTML standard's optional-tags rules:
  https://html.spec.whatwg.org/multipage/syntax.html#optional-tags
- no id used twice (a label, a link or aria-describedby would point at the first only);
- no XML declaration or processing instruction, which HTML does not have (the two-factor
  page once inlined the QR code's SVG file with its <?xml ...?> line).
"""

from collections import Counter
from html.parser import HTMLParser

import pytest

from extagram.testing.walker import site_data, site_pages

CLOSES_A_PARAGRAPH = {
    *["address", "article", "aside", "blockquote", "details", "dialog", "div", "dl"],
    *["fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4"],
    *["h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre"],
    *["search", "section", "table", "ul"],
}


class PageStructure(HTMLParser):
    """What one page's markup gets wrong: `problems()` maps each check's name to what
    it found (a count, tag names, ids or declarations); an empty dict is a good page."""

    def __init__(self, html):
        super().__init__()
        self.headings, self.blocks_in_paragraphs, self.instructions = 0, [], []
        self.ids, self._open_paragraphs = Counter(), 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if self._open_paragraphs and tag in CLOSES_A_PARAGRAPH:
            self.blocks_in_paragraphs.append(tag)
        if tag == "p":
            self._open_paragraphs += 1
        self.headings += tag == "h1"
        self.ids.update(value for name, value in attrs if name == "id")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "p":
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "p" and self._open_paragraphs:
            self._open_paragraphs -= 1

    def handle_pi(self, data):
        self.instructions.append(f"<?{data}>")

    def problems(self):
        found = {
            "level-one headings": self.headings if self.headings != 1 else None,
            "blocks inside a paragraph": self.blocks_in_paragraphs,
            "ids used twice": sorted(id_ for id_, count in self.ids.items() if count > 1),
            "processing instructions": self.instructions,
        }
        return {check: value for check, value in found.items() if value not in (None, [])}


def test_the_checker_finds_each_kind_of_mistake():
    good = "<h1>A</h1><p>a <em>b</em></p><ul><li id='x'>c</li></ul><svg id='y'></svg>"
    assert PageStructure(good).problems() == {}
    bad = (
        "<h1>A</h1><h1>B</h1><p>Rules:<ul><li id='r'>long</li></ul></p><b id='r'></b>"
        "<figure><?xml version='1.0' encoding='UTF-8'?><svg></svg></figure>"
    )
    assert PageStructure(bad).problems() == {
        "level-one headings": 2,
        "blocks inside a paragraph": ["ul"],
        "ids used twice": ["r"],
        "processing instructions": ["<?xml version='1.0' encoding='UTF-8'?>"],
    }
    assert PageStructure("<p>No heading</p>").problems() == {"level-one headings": 0}


@pytest.mark.django_db
def test_every_page_is_well_formed(django_user_model):
    wrong, pages = {}, []
    for role, path, response in site_pages(site_data(django_user_model)):
        pages.append(path)
        problems = PageStructure(response.content.decode()).problems()
        if problems:
            wrong[f"{role} {path}"] = problems
    assert len(pages) > 20, "the walk reached too few pages to mean anything"
    assert wrong == {}
