"""Extagram speaks to its members in one register: Spanish "tú" and Catalan "tu", never
"usted" or "vós".

Our own catalogs (extagram/locale/) are written that way, but many strings a member meets
come from django-allauth's and Django's catalogs (the log-in, e-mail and two-factor pages,
their messages, e-mails and form errors, the password rules), which address the member
formally: a page once asked "¿Ha olvidado su contraseña?" under "Iniciar sesión" and our
"tú". extagram/locale_overrides/ repeats those strings in our register (settings.py,
LOCALE_PATHS); these tests prove that nothing formal is left:

- a walk of every HTML page, as every role, in Spanish and in Catalan, finds no formal
  word in the text a reader sees;
- the site's translation of every string of allauth's catalogs for the features the site
  has on, of django.contrib.auth's catalog and of Django's form and validator messages
  has none either: they include the messages, e-mails and errors no walk reaches;
- the overrides hold only strings a package still has, and none of our catalog's.

A formal word is one of FORMAL_WORDS, forms only the formal register uses (checked against
our own catalogs, so none of our "tú" sentences counts).
"""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import allauth
import django
import pytest
from django.conf import settings
from django.utils import translation

from extagram.testing.walker import site_data, site_pages

LANGUAGES = ("es", "ca")

# A verb at the start of a sentence or clause: where an imperative stands.
_CLAUSE = r"(?:^|[.:;,!?¡¿>]\s*|\n\s*|por favor,?\s*|%\(link\)s)"

FORMAL_WORDS = {
    "es": [
        r"\busted(es)?\b",
        r"\ble (hemos|enviaremos|enviamos|permitirá|pedimos)\b",
        # "su"/"sus" for the member's things ("su cuenta" of someone else is third person:
        # "...para su cuenta en %(site_domain)s", "...haya cerrado su cuenta")
        r"\bsus? (contraseñas?|clave|direcci(ón|ones)|correos?|usuario|carpeta|bandeja"
        r"|aplicación|códigos|otra información)\b",
        r"\b(a|en|de|proteger|recuperar) su cuenta\b|\bpara su cuenta(?! en)|^su cuenta\b",
        # imperatives of "usted" (in the middle of a sentence they are third-person
        # subjunctives, which our text uses: "el código que genere la app")
        _CLAUSE + r"(?P<word>introduzca|introduza|escriba|utilice|seleccione|confirme"
        r"|verifique|compruebe|haga|siga|elija|escoja|envíe|vuelva|desmarque|habilite"
        r"|observe|ingrese|inicie|emita|solicite|contacte|tome|escanee|corrija|revise"
        r"|espere|añada|elimine|guarde|pulse)\b",
        r"\b(póngase|asegúrese|inténtelo|regístrese|contáctenos|introdúzcala)\b",
        r"\bha olvidado\b|(^|[.¿]\s*)ha (confirmado|iniciado|cerrado)\b|\bya ha iniciado\b",
        r"\bque ha (indicado|enviado)\b|\bsi aún no ha\b",
        r"\bestá (recibiendo|a punto)\b|¿está segur[oa]\?",
        r"\bdesea\b",
        r"¿ya tiene\b|\bsi tiene\b|\bsi no (ve|recibe|reconoce|lo ha)\b|\bno inició\b",
        r"\bdebe escribir\b|\bdebería añadir\b",
        r"\bpuede (añadir|eliminar|activar|guardar|registrarse|ignorar)\b",
    ],
    "ca": [
        r"\b(vós|vostè|vostès|vostre|vostra|vostres)\b",
        r"\bus\b",  # "us hem enviat", "si us plau"
        r"\bsisplau\b",
        r"-vos\b",
        r"\b(heu|esteu|podeu|teniu|sou|voleu|dieu|rebeu|veieu|hàgiu|hauríeu|aneu)\b",
        # second person plural (and "vostè") imperatives
        r"\b(introduïu|introdueixi|escriviu|utilitzeu|seleccioneu|deseleccioneu|intenteu"
        r"|tingueu|deseu|entreu|verifiqueu|confirmeu|comproveu|seguiu|reconeixeu|premeu"
        r"|observeu|contacteu|torneu|registreu|inicieu|sol·liciteu|soliciteu|accediu"
        r"|escanegeu|escanejeu|canvieu|afegiu|elimineu|assegureu|asseguri|corregiu|proveu"
        r"|espereu|esborreu|feu|activeu|desactiveu|descarregueu|genereu|guardeu|esculliu"
        r"|carregueu|enviau|envieu|marqueu|pot registrar-se)\b",
        # allauth's mistakes: a typo, and "direcció" where we say "adreça de correu"
        r"\bcontacteu-nis\b|\bdirecció de correu\b",
    ],
}
_MARKERS = {
    lang: [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    for lang, patterns in FORMAL_WORDS.items()
}


def formal_words(lang, text):
    """The formal words found in `text`: what each marker that matches matched (its
    group "word" if it has one)."""
    found = []
    for marker in _MARKERS[lang]:
        if match := marker.search(text):
            found.append(match.group("word" if "word" in marker.groupindex else 0))
    return found


def test_the_checker_tells_a_formal_sentence_from_an_informal_one():
    assert formal_words("es", "¿Ha olvidado su contraseña? Introduzca su correo.") == [
        "su contraseña",
        "Introduzca",
        "Ha olvidado",
    ]
    assert formal_words("es", "¿Has olvidado tu contraseña? Escribe tu correo.") == []
    assert formal_words("es", "Ana ha pedido usar esta dirección para su cuenta en x.com.") == []
    assert formal_words("ca", "Heu oblidat la vostra contrasenya? Si us plau, torneu-ho.") == [
        "vostra",
        "us",
        "Heu",
        "torneu",
    ]
    assert formal_words("ca", "Has oblidat la teva contrasenya? Torna-ho a provar.") == []


def test_no_sentence_of_our_own_catalogs_counts_as_formal():
    found = {}
    for lang in LANGUAGES:
        for entry in po_entries(our_catalog(lang)):
            for text in entry["msgstr"]:
                if words := formal_words(lang, text):
                    found[f"{lang}: {text}"] = words
    assert found == {}


# ---------------------------------------------------------------- every page


class VisibleText(HTMLParser):
    """The text of a page a reader sees or hears: text nodes outside scripts and styles,
    and the alt, title, placeholder, aria-label and button values of elements; one per
    line."""

    SHOWN_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")

    def __init__(self, html):
        super().__init__()
        self.parts, self._hidden = [], 0
        self.feed(html)
        self.close()
        self.text = "\n".join(part.strip() for part in self.parts if part.strip())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._hidden += tag in ("script", "style")
        self.parts += [attrs[name] or "" for name in self.SHOWN_ATTRIBUTES if name in attrs]
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            self.parts.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_page_addresses_the_member_formally(django_user_model, lang):
    formal, pages = {}, []
    with translation.override("en"):  # the requests activate `lang`; leave English after
        for role, path, response in site_pages(site_data(django_user_model), language=lang):
            html = response.content.decode()
            assert f'<html lang="{lang}"' in html, f"{role} {path} is not in {lang}"
            pages.append(path)
            text = VisibleText(html).text
            if words := formal_words(lang, text):
                formal[f"{role} {path}"] = words
    assert len(pages) > 20, "the walk reached too few pages to mean anything"
    assert formal == {}


# ---------------------------------------------------------------- every string

ALLAUTH_LOCALE = Path(allauth.__file__).parent / "locale"
DJANGO_DIR = Path(django.__file__).parent

# allauth's sources for what settings.py turns on (allauth.account, allauth.mfa with TOTP
# and recovery codes, allauth.core), less the features it leaves off: phone numbers, codes
# by e-mail instead of links or passwords, passkeys and security keys (WebAuthn), trusted
# browsers; socialaccount, idp, headless and usersessions are outside ON.
ON = re.compile(r"^(account|mfa|core)/|^templates/(account|mfa|allauth)/")
OFF = re.compile(
    r"webauthn|phone|login_code|passkey|mfa/trust|reauthentication_code|verification_code"
    r"|password_reset_code|base_confirm_code"
)
# strings of the features left off that an enabled source file also holds (the account
# adapter's phone messages, the login page's passkey button...)
OFF_TEXT = re.compile(r"phone|passkey|security key|sign-in code", re.IGNORECASE)

# Django's form fields, widgets, formsets and validators, and the model field and
# uniqueness errors a ModelForm shows
DJANGO_FORM_SOURCES = [
    *sorted((DJANGO_DIR / "forms").rglob("*.py")),
    DJANGO_DIR / "core" / "validators.py",
    DJANGO_DIR / "db" / "models" / "fields" / "__init__.py",
    DJANGO_DIR / "db" / "models" / "base.py",
]


def po_entries(locale_dir):
    """The entries of `locale_dir`/LC_MESSAGES/django.po (the header and obsolete entries
    left out): dicts of refs, msgctxt, msgid, msgid_plural and msgstr (a list)."""
    entries, entry, field = [], None, None
    path = Path(locale_dir) / "LC_MESSAGES" / "django.po"
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if entry and entry["msgid"] is not None and not line.startswith(("msg", '"')):
            if entry["msgid"]:
                entries.append(entry)
            entry = None
        if not line.strip() or line.startswith("#~"):
            continue
        if entry is None:
            entry = {"refs": [], "msgctxt": None, "msgid": None, "msgid_plural": None}
            entry["msgstr"] = []
        if line.startswith("#:"):
            entry["refs"] += line[2:].split()
        elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr")):
            keyword, value = line.split(" ", 1)
            field = "msgstr" if keyword.startswith("msgstr") else keyword
            if field == "msgstr":
                entry["msgstr"].append(ast.literal_eval(value))
            else:
                entry[field] = ast.literal_eval(value)
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += ast.literal_eval(line)
            else:
                entry[field] += ast.literal_eval(line)
    return entries


def allauth_strings(lang):
    """allauth's entries in `lang` for the features the site has on."""
    return [
        entry
        for entry in po_entries(ALLAUTH_LOCALE / lang)
        if any(ON.match(ref) and not OFF.search(ref) for ref in entry["refs"])
        and not OFF_TEXT.search(entry["msgid"])
    ]


def django_form_strings():
    """(msgctxt, msgid, msgid_plural) of every string Django's form sources translate."""
    calls = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
    calls |= {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
    found = set()
    for source in DJANGO_FORM_SOURCES:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in calls:
                continue
            args = [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]
            context = args.pop(0) if name.startswith(("p", "np")) else None
            plural = args[1] if "ngettext" in name and len(args) > 1 else None
            if args and isinstance(args[0], str):
                found.add((context, args[0], plural))
    return found


def strings_to_check(lang):
    """(msgctxt, msgid, msgid_plural) of every string checked in `lang`."""
    entries = allauth_strings(lang)
    entries += po_entries(DJANGO_DIR / "contrib" / "auth" / "locale" / lang)
    keys = {(e["msgctxt"], e["msgid"], e["msgid_plural"]) for e in entries}
    return keys | django_form_strings()


def site_translations(context, msgid, plural):
    """What the site shows for a string in the active language (each plural form)."""
    if plural is None:
        return [translation.pgettext(context, msgid) if context else translation.gettext(msgid)]
    if context:
        return [translation.npgettext(context, msgid, plural, n) for n in (1, 2, 1000000)]
    return [translation.ngettext(msgid, plural, n) for n in (1, 2, 1000000)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_message_mail_or_error_of_allauth_or_django_addresses_the_member_formally(lang):
    keys = strings_to_check(lang)
    assert len(keys) > 300, "too few strings to mean anything"
    formal = {}
    with translation.override(lang):
        for context, msgid, plural in sorted(keys, key=lambda key: key[1]):
            for text in site_translations(context, msgid, plural):
                if words := formal_words(lang, text):
                    formal[msgid] = (text, words)
    assert formal == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_override_is_a_string_of_a_package_and_not_of_our_catalog(lang):
    packages = set()
    for language in LANGUAGES:  # Django's Catalan lacks a few strings its Spanish has
        for locale_dir in (
            ALLAUTH_LOCALE / language,
            DJANGO_DIR / "contrib" / "auth" / "locale" / language,
            DJANGO_DIR / "conf" / "locale" / language,
        ):
            packages |= {(e["msgctxt"], e["msgid"]) for e in po_entries(locale_dir)}
    # an entry we leave untranslated (makemessages lists the strings of allauth's
    # templates we copied) is not compiled, so it hides no override
    ours = {(e["msgctxt"], e["msgid"]) for e in po_entries(our_catalog(lang)) if any(e["msgstr"])}
    overrides = {(e["msgctxt"], e["msgid"]) for e in po_entries(override_catalog(lang))}
    assert len(overrides) > 100
    assert overrides - packages == set(), "no package has these strings (any more)"
    assert overrides & ours == set(), "our catalog has these, so their override is unused"


def our_catalog(lang):
    return Path(settings.LOCALE_PATHS[0]) / lang


def override_catalog(lang):
    return Path(settings.LOCALE_PATHS[1]) / lang
