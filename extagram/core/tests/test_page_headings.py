"""Every page of the site has exactly one level-one heading (axe-core's
page-has-heading-one, which the post page once failed), checked on every HTML page the
walker reaches, as every role, so a page added later is checked too. The admin is
Django's (its own header is an h1 too) and is left out."""

import re

import pytest

from extagram.testing.walker import build_path, clients, site_data, url_targets

H1 = re.compile(rb"<h1[\s>]")


@pytest.mark.django_db
def test_every_page_has_exactly_one_level_one_heading(django_user_model):
    data = site_data(django_user_model)
    wrong, pages = {}, 0
    for role, client in clients(data).items():
        for target in url_targets():
            if target.label.startswith("/admin/"):
                continue
            names = [name for _text, name in target.path_parts if name is not None]
            for value in data["pool"] if names else [b""]:
                path = build_path(target.path_parts, dict.fromkeys(names, value))
                response = client.get(path)
                html = "text/html" in response.get("Content-Type", "")
                if response.status_code != 200 or not html or response.streaming:
                    continue
                pages += 1
                count = len(H1.findall(response.content))
                if count != 1:
                    wrong[f"{role} {path}"] = count
    assert pages > 20, "the walk reached too few pages to mean anything"
    assert wrong == {}
