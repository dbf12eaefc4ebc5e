"""Every HTML page the walker reaches, as every role, is well formed in the ways a browser
or a screen reader depends on; one walk of the site checks them all, so a page added later
is checked too (the admin is Django's and is left out), and so is the page each form
answers when it is sent empty (its errors):

- exactly one level-one heading (axe-core's page-has-heading-one, which the post page
  once failed);
- no block (a list, a div, a form...) inside a paragraph: an HTML parser closes the <p>
  at the block's start tag, so the page's structure is not the one written (the sign-up
  form's password help once put Django's <ul> of rules in a <p>). The elements are those
  whose start tag ends an open paragraph, from the HTML standard's optional-tags rules:
  https://html.spec.whatwg.org/multipage/syntax.html#optional-tags
- no id used twice (a label, a link or aria-describedby would point at the first only),
  and every id a label's `for` or an aria-describedby, aria-labelledby or aria-controls
  names is on the page (a form's errors were once named by their field but had no id, so
  a screen reader never read them out with it), and a field that names its errors is
  marked aria-invalid (the e-mail page's field was not);
- no XML declaration or processing instruction, which HTML does not have (the two-factor
  page once inlined the QR code's SVG file with its <?xml ...?> line).
"""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.db import transaction

from extagram.testing.walker import clients, form_targets, site_data, site_pages

ID_REFERENCES = ("for", "aria-describedby", "aria-labelledby", "aria-controls")

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
        self.ids, self.references, self._open_paragraphs = Counter(), set(), 0
        self.unmarked_invalid = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if self._open_paragraphs and tag in CLOSES_A_PARAGRAPH:
            self.blocks_in_paragraphs.append(tag)
        if tag == "p":
            self._open_paragraphs += 1
        self.headings += tag == "h1"
        self.ids.update(value for name, value in attrs if name == "id")
        for name, value in attrs:
            if name in ID_REFERENCES and value:
                self.references.update(value.split())
        attributes = dict(attrs)
        described = (attributes.get("aria-describedby") or "").split()
        names_errors = any(id_.endswith("_error") for id_ in described)
        if names_errors and attributes.get("aria-invalid") != "true":
            self.unmarked_invalid.append(attributes.get("name") or tag)

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
            "references to no id": sorted(self.references - set(self.ids)),
            "fields with errors not marked aria-invalid": self.unmarked_invalid,
            "processing instructions": self.instructions,
        }
        return {check: value for check, value in found.items() if value not in (None, [])}


def test_the_checker_finds_each_kind_of_mistake():
    good = (
        "<h1>A</h1><p>a <em>b</em></p><ul><li id='x'>c</li></ul><svg id='y'></svg>"
        "<label for='x'>L</label><input aria-describedby='x y'>"
    )
    assert PageStructure(good).problems() == {}
    bad = (
        "<h1>A</h1><h1>B</h1><p>Rules:<ul><li id='r'>long</li></ul></p><b id='r'></b>"
        "<figure><?xml version='1.0' encoding='UTF-8'?><svg></svg></figure>"
        "<input id='e' name='e' aria-describedby='e_error'><p role='alert'>Required.</p>"
    )
    assert PageStructure(bad).problems() == {
        "level-one headings": 2,
        "blocks inside a paragraph": ["ul"],
        "ids used twice": ["r"],
        "references to no id": ["e_error"],
        "fields with errors not marked aria-invalid": ["e"],
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


@pytest.mark.django_db
def test_every_form_sent_empty_answers_a_well_formed_page(django_user_model):
    data = site_data(django_user_model)
    wrong, answered = {}, 0
    for target in form_targets(data, clients(data)).values():
        if target.action.startswith("/admin/"):
            continue
        role = target.label.split()[0]
        empty = {name: "" for name, kind in target.fields if kind not in ("submit", "button")}
        # as a browser does, the first named submit button goes with the fields
        buttons = [name for name, kind in target.fields if kind == "submit"]
        empty.update(dict.fromkeys(buttons[:1], ""))
        with transaction.atomic():  # what a form changes (a post deleted...) is undone
            response = clients(data)[role].post(target.action, empty)
            transaction.set_rollback(True)
        if "text/html" not in response.get("Content-Type", "") or response.status_code == 302:
            continue
        answered += 1
        problems = PageStructure(response.content.decode()).problems()
        if problems:
            wrong[f"{target.label}: {response.status_code}"] = problems
    assert answered > 10, "too few forms answered a page to mean anything"
    assert wrong == {}
