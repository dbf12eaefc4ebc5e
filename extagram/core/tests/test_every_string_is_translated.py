"""Every string the site marks for translation reads in Spanish and in Catalan.

`make messages` (makemessages) lists them in our catalogs, but only when someone runs it:
the admin's "Your own account was left active" was added to the code, never to the
catalogs, and showed in English on Spanish and Catalan pages. Here makemessages runs on a
copy of the app, so the list is the code's as it is now, and each string must come out of
the site's gettext translated: from our catalog, its overrides or a package's catalog
(allauth's strings in our copies of its templates are translated by allauth).
"""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import translation

from .test_one_register import po_entries

LANGUAGES = ("es", "ca")

pytestmark = pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="makemessages needs GNU gettext's xgettext"
)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A copy of the app whose catalogs makemessages has brought up to date; its root."""
    copy = tmp_path_factory.mktemp("messages")
    shutil.copy(settings.BASE_DIR / "manage.py", copy)
    shutil.copytree(
        settings.BASE_DIR / "extagram",
        copy / "extagram",
        ignore=shutil.ignore_patterns("__pycache__", "tests", "static"),
    )
    languages = [option for lang in LANGUAGES for option in ("-l", lang)]
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", *languages],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "extagram.settings"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return copy


def translated(entry):
    """The site's translation of a catalog entry (its singular, for a plural one)."""
    msgctxt, msgid, plural = entry["msgctxt"], entry["msgid"], entry["msgid_plural"]
    if plural:
        if msgctxt:
            return translation.npgettext(msgctxt, msgid, plural, 1)
        return translation.ngettext(msgid, plural, 1)
    return translation.pgettext(msgctxt, msgid) if msgctxt else translation.gettext(msgid)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_the_code_marks_is_translated(extracted, lang):
    entries = po_entries(extracted / "extagram" / "locale" / lang)
    assert len(entries) > 200
    with translation.override(lang):
        english = [e["msgid"] for e in entries if translated(e) == e["msgid"]]
    assert english == [], f"untranslated in {lang}: run `make messages` and translate these"
