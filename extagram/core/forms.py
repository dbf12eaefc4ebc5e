from django import forms


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
    """

    def to_python(self, value):
        value = super().to_python(value)
        return browser_line_breaks(value) if isinstance(value, str) else value
