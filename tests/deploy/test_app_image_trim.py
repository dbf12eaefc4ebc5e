"""The app image's Dockerfile keeps translations for exactly the languages the site
offers: it deletes every other language's catalogues from the installed packages
(EXTAGRAM_LANGUAGES, deploy/app/Dockerfile), so a language added to settings.LANGUAGES
must be added there too, or the image would show it Django's and allauth's strings in
English."""

import re
from pathlib import Path

from django.conf import settings

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "app" / "Dockerfile"


def test_the_image_keeps_the_catalogues_of_every_language_the_site_offers():
    match = re.search(r'^ARG EXTAGRAM_LANGUAGES="([^"]*)"', DOCKERFILE.read_text(), re.MULTILINE)
    assert match, f"no EXTAGRAM_LANGUAGES in {DOCKERFILE}"
    kept = match.group(1).split()
    offered = [code for code, _name in settings.LANGUAGES]
    assert sorted(kept) == sorted(offered)
