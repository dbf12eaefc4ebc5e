import hashlib
import secrets
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Bidirectional embeddings and overrides (U+202A-U+202E) make text after them read in
# another order than it is stored ("Trojan Source", CVE-2021-42574). Unicode recommends
# the isolates instead (UAX #9, section 2.7), which stay allowed with the marks
# (U+200E, U+200F): people mixing right-to-left and left-to-right text use those.
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e")


# Characters that draw nothing though they are neither spaces nor control or format
# characters: the rest of Unicode's Default_Ignorable_Code_Point list (DerivedCoreProperties.txt:
# the combining grapheme joiner, the Hangul fillers people paste to post "empty" text, the
# Khmer inherent vowels, the variation selectors, the tag characters and the code points kept
# for more of them), and the blank Braille pattern, pasted for the same reason.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)
BLANK_LOOKING = frozenset(
    chr(code) for first, last in _IGNORABLE_RANGES for code in range(first, last + 1)
)
# Control, format and separator characters (zero-width spaces and joiners, direction
# marks...). Not the other C categories: unassigned (Cn) is also every character newer
# than this Python's Unicode tables (an emoji of Unicode 16 on Python 3.13), and private
# use (Co) draws what a font gives it (Apple's logo at U+F8FF).
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))


def shows_nothing(text):
    """True when `text` (a str) has no character a reader would see: only control, format
    and separator characters (Unicode categories Cc, Cf, Z*, which hold every character
    str.isspace() takes) and BLANK_LOOKING ones. An empty string shows nothing."""
    return all(
        ch in BLANK_LOOKING or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text
    )


# The control characters (Unicode category Cc: C0, DEL and C1) free text may hold: the
# line break a textarea sends (CR and CRLF become LF first) and the tab.
_TEXT_CONTROLS = frozenset("\n\t")


def first_control_character(text):
    """The first control character of `text` (a str) a free-text field refuses, or None.

    Category Cc less LF and TAB: a bell, an escape sequence pasted from a terminal, a NUL.
    Browsers show none of them, terminals and mail clients act on some, and HTML calls
    them a parse error in its input stream (WHATWG HTML, "control-character-in-input-stream").
    """
    for ch in text:
        if ch not in _TEXT_CONTROLS and unicodedata.category(ch) == "Cc":
            return ch
    return None


# What Django puts in place of bytes that are not UTF-8 when it decodes a form or a query
# string (errors="replace"): a browser never sends such bytes, so text holding it was not
# typed as it arrived.
REPLACEMENT_CHARACTER = "\ufffd"


def refuse_unreadable(text):
    """Raises ValidationError when `text` (a str) holds REPLACEMENT_CHARACTER: part of it
    arrived as bytes that are not UTF-8 and could not be read, and storing it would keep
    "\ufffd" in their place."""
    if REPLACEMENT_CHARACTER in text:
        raise ValidationError(
            _("Part of the text could not be read (it was not sent as UTF-8): type it again."),
            code="undecodable",
        )


def browser_line_breaks(text):
    """`text` with CRLF and lone CR line breaks made LF, as a browser's textarea holds it.

    HTML counts a textarea's `maxlength` on its value with LF line breaks, but submits
    every line break as CRLF (the form-data encoding; WHATWG HTML, "textarea" and
    "constructing the entry list"): 11 lines of 2,199 characters by the browser's count
    arrive as 2,209. Normalising first makes the server count what the browser counted.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


class BrowserTextField(forms.CharField):
    """A CharField that counts and stores text as the browser's own length check sees it.

    Line breaks are normalised (browser_line_breaks) before `max_length` is checked.
    The server's count is then never stricter than the browser's: `maxlength` counts
    UTF-16 code units, so a character outside the Basic Multilingual Plane (most
    emoji) is 2 for the browser and 1 here. Use it for every free-text field of a
    form (captions, alt text, comments); for a ModelForm, through Meta.field_classes.
    Text with a bidirectional embedding or override character is refused (BIDI_OVERRIDES),
    and so is text with a control character other than a line break or a tab
    (first_control_character), or that arrived as bytes that are not UTF-8
    (refuse_unreadable): the same rules display names keep.
    Text that shows nothing (shows_nothing: zero-width spaces, a Hangul filler...) counts
    as empty: a required field asks for text, an optional one stores "".
    """

    def to_python(self, value):
        value = super().to_python(value)
        if not isinstance(value, str):
            return value
        return "" if shows_nothing(value) else browser_line_breaks(value)

    def validate(self, value):
        super().validate(value)
        if not value:
            return
        if not BIDI_OVERRIDES.isdisjoint(value):
            raise ValidationError(
                _("Remove the direction override character (U+202A to U+202E) from the text."),
                code="bidi_override",
            )
        refuse_unreadable(value)
        control = first_control_character(value)
        if control:
            raise ValidationError(
                _("Remove the invisible control character (%(code)s) from the text."),
                code="control",
                params={"code": f"U+{ord(control):04X}"},
            )


def submission_token():
    """A new random token (22 URL-safe characters, 128 bits) for a form as it is rendered.

    A form that must not act twice for one submission (a double click, a browser's
    retry) carries it in a hidden field; see submission_digest.
    """
    return secrets.token_urlsafe(16)


def submission_digest(token, texts, chunks=()):
    """SHA-256 (64 hex digits) of a submission: its `token` (a str), its `texts` (strs,
    each length-prefixed so that no two splits of the same characters collide) and then
    `chunks` (bytes, e.g. an uploaded file's); None when `token` is empty (a form
    rendered before it had one, a script): such a submission is never a repeat.

    A repeat of the same submission has the same token and content, hence the same
    digest; a form restored from the browser's history keeps its token, but other
    content there makes another digest. The models keep it unique per author.
    """
    if not token:
        return None
    digest = hashlib.sha256()
    for part in (token, *texts):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
