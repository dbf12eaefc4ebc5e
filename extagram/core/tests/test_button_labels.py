"""A button says what it does in one verb form per language: in Catalan the imperative of
"tu" ("Desa", "Canvia el correu"), as the Optimot recommends for what the user tells the
program ("accions en les interfícies digitals: infinitiu o imperatiu?"); the Catalan pages
mixed it with infinitives ("Canviar el correu", "Activar").

The walk of every page as every role collects each button's label (a <button>, a submit
input, a link styled as one) and checks the first word of the Catalan ones.
"""

import re
from html.parser import HTMLParser

import pytest
from django.utils import translation

from extagram.testing.walker import site_data, site_pages

# A Catalan infinitive ends in -ar, -er, -ir or -re (cantar, témer, dormir, perdre); these
# first words end so without being one
NOT_INFINITIVES = {"primer", "registre"}
INFINITIVE = re.compile(r"[a-zà-ú·]+(ar|er|ir|re)")


class ButtonLabels(HTMLParser):
    """The labels of the buttons of an HTML page: `labels`, a set of str."""

    def __init__(self):
        super().__init__()
        self.labels, self._open, self._text = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "submit" and attrs.get("value"):
            self.labels.add(attrs["value"])
        elif tag == "button" or (tag == "a" and "button" in (attrs.get("class") or "").split()):
            self._open.append(tag)
            self._text = []

    def handle_endtag(self, tag):
        if self._open and tag == self._open[-1]:
            self._open.pop()
            if label := " ".join("".join(self._text).split()):
                self.labels.add(label)

    def handle_data(self, data):
        if self._open:
            self._text.append(data)


def button_labels(django_user_model, lang):
    """{label: a path showing it} over the walk of every page as every role in `lang`."""
    labels = {}
    with translation.override("en"):  # the requests activate `lang`; leave English after
        for _role, path, response in site_pages(site_data(django_user_model), language=lang):
            parser = ButtonLabels()
            parser.feed(response.content.decode())
            for label in parser.labels:
                labels.setdefault(label, path)
    return labels


def first_word(label):
    return re.sub(r"^\W+", "", label).split(" ")[0].lower()


def test_the_checker_tells_an_infinitive_from_an_imperative():
    assert INFINITIVE.fullmatch(first_word("Canviar el correu"))
    assert INFINITIVE.fullmatch(first_word("Activar"))
    for imperative in ("Canvia el correu", "Desa", "Segueix alice", "Elimina", "♡ M'agrada"):
        assert not INFINITIVE.fullmatch(first_word(imperative)), imperative


@pytest.mark.django_db
def test_catalan_buttons_are_imperatives(django_user_model):
    labels = button_labels(django_user_model, "ca")
    assert len(labels) > 15, "the walk reached too few buttons to mean anything"
    infinitives = {
        label: path
        for label, path in labels.items()
        if INFINITIVE.fullmatch(first_word(label)) and first_word(label) not in NOT_INFINITIVES
    }
    assert infinitives == {}
