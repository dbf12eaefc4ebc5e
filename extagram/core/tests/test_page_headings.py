"""Every page of the site has exactly one level-one heading (axe-core's
page-has-heading-one, which the post page once failed), checked on every HTML page the
walker reaches, as every role, so a page added later is checked too. The admin is
Django's (its own header is an h1 too) and is left out."""

import re

import pytest

from extagram.testing.walker import site_data, site_pages

H1 = re.compile(rb"<h1[\s>]")


@pytest.mark.django_db
def test_every_page_has_exactly_one_level_one_heading(django_user_model):
    wrong, pages = {}, 0
    for role, path, response in site_pages(site_data(django_user_model)):
        pages += 1
        count = len(H1.findall(response.content))
        if count != 1:
            wrong[f"{role} {path}"] = count
    assert pages > 20, "the walk reached too few pages to mean anything"
    assert wrong == {}
