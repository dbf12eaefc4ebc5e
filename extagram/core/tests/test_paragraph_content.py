"""No page puts a block (a list, a div, a form...) inside a paragraph: an HTML parser
closes the <p> at the block's start tag, so the page's structure is not the one written
(the sign-up form's password help once put Django's <ul> of rules in a <p>). Checked on
every HTML page the walker reaches, as every role. The elements are those whose start
tag ends an open paragraph, from the HTML standard's optional-tags rules:
https://html.spec.whatwg.org/multipage/syntax.html#optional-tags"""

from html.parser import HTMLParser

import pytest

from extagram.testing.walker import site_data, site_pages

CLOSES_A_PARAGRAPH = {
    *[
        "address",
        "article",
        "aside",
        "blockquote",
        "details",
        "dialog",
        "div",
        "dl",
        "fieldset",
        "figcaption",
        "figure",
    ],
    *[
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "search",
    ],
    *["section", "table", "ul"],
}


class BlocksInParagraphs(HTMLParser):
    """The block elements (tag names) a page opens inside an open <p>."""

    def __init__(self, html):
        super().__init__()
        self.found, self._open = [], 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if self._open and tag in CLOSES_A_PARAGRAPH:
            self.found.append(tag)
        if tag == "p":
            self._open += 1

    def handle_endtag(self, tag):
        if tag == "p" and self._open:
            self._open -= 1


def test_the_checker_finds_a_list_in_a_paragraph():
    assert BlocksInParagraphs("<p>Rules:<ul><li>long</li></ul></p>").found == ["ul"]
    assert BlocksInParagraphs("<p>a <em>b</em></p><ul><li>c</li></ul>").found == []


@pytest.mark.django_db
def test_no_page_puts_a_block_inside_a_paragraph(django_user_model):
    wrong, pages = {}, 0
    for role, path, response in site_pages(site_data(django_user_model)):
        pages += 1
        found = BlocksInParagraphs(response.content.decode()).found
        if found:
            wrong[f"{role} {path}"] = found
    assert pages > 20, "the walk reached too few pages to mean anything"
    assert wrong == {}
