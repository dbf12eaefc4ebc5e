"""Extagram's English names things one way: "e-mail", "log in" and "log out", "sign up",
"two-factor authentication", "recovery codes", in sentence case ("Change password").

django-allauth's English says "Email Address", "Sign In", "Sign Out", "You have signed
out.", "Two-Factor Authentication", "Recovery Codes", in Title Case; a newcomer followed our
settings page's "E-mail address" to a page titled "Email Address" and the header's "Log
out" to "Sign Out". extagram/locale_overrides/en/ "translates" those strings into our
English, changing only terms and case (settings.LOCALE_PATHS); these tests prove it holds:

- a walk of every HTML page, as every role, in English, finds none of allauth's terms in
  the text a reader sees;
- the site's English for every string of allauth's catalog for the features the site has
  on, and for Django's form and validator messages, has none either: they include the
  messages, e-mails and errors no walk reaches;
- the overrides hold only strings a package still has, and they change nothing in Spanish
  or Catalan, whose catalogs key on the same English msgids.

The terms are OTHER_TERMS: precise enough that none of our own English matches.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from extagram.core.tests.test_one_register import (
    ALLAUTH_LOCALE,
    DJANGO_DIR,
    VisibleText,
    allauth_strings,
    django_form_strings,
    po_entries,
    site_translations,
)
from extagram.testing.walker import site_data, site_pages

# allauth's words for what we call otherwise. "email" as a word (not "e-mail", not the
# placeholders %(email)s and {email}, removed before checking); signing in and out, and
# "signup" as one word; Title Case of the headings, buttons and labels allauth has.
OTHER_TERMS = [
    r"\bemails?\b",
    r"\bsign(ed|ing)? (in|out)\b",
    r"\bsignup\b",
    r"(?-i:Two-Factor)",
    # a capitalised word after another word: "Change Password", "Recovery Codes",
    # "Re-send Verification", "Remember Me", "Account Inactive", "Confirm Access"...
    r"(?-i:[\w-]+ (?P<word>Address(es)?|Passwords?|Verification|Codes?|App|Access|Change"
    r"|Changed|Primary|Token|Account|Inactive|Me|Closed|Reset|Set|Removed|Confirmation"
    r"|Authentication|Authenticator|Exists|Generated|Activated|Deactivated|In|Out|Up))\b",
]
_MARKERS = [re.compile(pattern, re.IGNORECASE) for pattern in OTHER_TERMS]
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w+\}|mailto:")


def other_terms(text):
    """allauth's terms found in `text`: what each marker that matches matched."""
    text = _PLACEHOLDER.sub("", text)
    found = []
    for marker in _MARKERS:
        if match := marker.search(text):
            found.append(match.group("word" if "word" in marker.groupindex else 0))
    return found


def test_the_checker_tells_allauths_english_from_ours():
    assert other_terms("Email Address") == ["Email", "Address"]
    assert other_terms("Are you sure you want to sign out?") == ["sign out"]
    assert other_terms("You have signed out.") == ["signed out"]
    assert other_terms("Two-Factor Authentication") == ["Two-Factor", "Authentication"]
    assert other_terms("Recovery Codes") == ["Codes"]
    assert other_terms("Re-send Verification") == ["Verification"]
    assert other_terms("the signup process") == ["signup"]
    assert other_terms("E-mail address") == []
    assert other_terms("Log out") == []
    assert other_terms("Sign up") == []
    assert other_terms("Sign-in and security") == []
    assert other_terms("Two-factor authentication") == []
    assert other_terms("Confirmation e-mail sent to %(email)s.") == []
    assert other_terms('<a href="mailto:%(email)s">%(email)s</a>') == []


# Our own msgids that still say it allauth's way. English shows the msgid itself, and
# changing a msgid means changing it in the Spanish and Catalan catalogs too: to be done
# there, then dropped from here.
OUR_STRINGS_LEFT_AS_THEY_ARE = set()


def test_no_string_of_our_own_uses_allauths_terms_once_the_site_shows_it_in_english():
    # Our templates reuse some of allauth's msgids ("Email Address"): the overrides
    # reword those too.
    found = {}
    with translation.override("en"):
        for entry in po_entries(our_catalog("es")):
            key = (entry["msgctxt"], entry["msgid"], entry["msgid_plural"])
            for text in site_translations(*key):
                if words := other_terms(text):
                    found[entry["msgid"]] = (text, words)
    assert found.keys() == OUR_STRINGS_LEFT_AS_THEY_ARE, found


# ---------------------------------------------------------------- every page


@pytest.mark.django_db
def test_no_english_page_uses_allauths_terms(django_user_model):
    found, pages = {}, []
    with translation.override("en"):
        for role, path, response in site_pages(site_data(django_user_model), language="en"):
            html = response.content.decode()
            assert '<html lang="en"' in html, f"{role} {path} is not in English"
            pages.append(path)
            if words := other_terms(VisibleText(html).text):
                found[f"{role} {path}"] = words
    assert len(pages) > 20, "the walk reached too few pages to mean anything"
    assert found == {}


# ---------------------------------------------------------------- every string


def strings_to_check():
    """(msgctxt, msgid, msgid_plural) of allauth's strings for the features the site has
    on, and of Django's form and validator messages."""
    keys = {(e["msgctxt"], e["msgid"], e["msgid_plural"]) for e in allauth_strings("en")}
    return keys | django_form_strings()


def test_no_message_mail_or_error_of_allauth_or_django_uses_allauths_terms_in_english():
    keys = strings_to_check()
    assert len(keys) > 300, "too few strings to mean anything"
    found = {}
    with translation.override("en"):
        for context, msgid, plural in sorted(keys, key=lambda key: key[1]):
            for text in site_translations(context, msgid, plural):
                if words := other_terms(text):
                    found[msgid] = (text, words)
    assert found == {}


def test_every_english_override_is_a_string_of_a_package_and_changes_its_wording():
    packages = {}
    for locale_dir in (ALLAUTH_LOCALE / "en", DJANGO_DIR / "conf" / "locale" / "en"):
        for entry in po_entries(locale_dir):
            packages[(entry["msgctxt"], entry["msgid"])] = entry["msgid_plural"]
    overrides = po_entries(override_catalog("en"))
    assert len(overrides) > 50
    keys = {(e["msgctxt"], e["msgid"]) for e in overrides}
    assert keys - packages.keys() == set(), "no package has these strings (any more)"
    for entry in overrides:
        assert entry["msgid_plural"] == packages[(entry["msgctxt"], entry["msgid"])]
        assert entry["msgstr"] != [entry["msgid"]], f"{entry['msgid']!r} changes nothing"
        # or asks to "contact us", the one rewording (test_account_mail_help.py)
        reworded = "contact us" in entry["msgid"]
        assert other_terms(entry["msgid"]) or reworded, (
            f"{entry['msgid']!r} has no term of allauth's"
        )


@pytest.mark.parametrize("lang", ("es", "ca"))
def test_the_english_overrides_change_nothing_in_spanish_or_catalan(lang):
    # Their catalogs translate the same msgids; were one missing there, Django would
    # fall back to English and show our override instead of the Spanish or Catalan.
    fell_back = {}
    with translation.override(lang):
        for entry in po_entries(override_catalog("en")):
            key = (entry["msgctxt"], entry["msgid"], entry["msgid_plural"])
            shown = site_translations(*key)
            if set(shown) & {entry["msgid"], *entry["msgstr"]}:
                fell_back[entry["msgid"]] = shown
    assert fell_back == {}


def our_catalog(lang):
    return Path(settings.LOCALE_PATHS[0]) / lang


def override_catalog(lang):
    return Path(settings.LOCALE_PATHS[1]) / lang
