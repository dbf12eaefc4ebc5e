from datetime import datetime

from django.test import TestCase
from django.utils import translation
from django.utils.formats import date_format


class LanguageTests(TestCase):
    def test_english_is_the_default(self):
        self.assertContains(self.client.get("/"), "Sign up")

    def test_spanish_is_chosen_from_the_browser_language(self):
        response = self.client.get("/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
        self.assertContains(response, '<html lang="es">')
        self.assertContains(response, "Regístrate")

    def test_catalan_is_chosen_from_the_browser_language(self):
        response = self.client.get("/", HTTP_ACCEPT_LANGUAGE="ca")
        self.assertContains(response, '<html lang="ca">')
        self.assertContains(response, "Registra't")

    def test_an_unsupported_language_falls_back_to_english(self):
        response = self.client.get("/", HTTP_ACCEPT_LANGUAGE="ja")
        self.assertContains(response, '<html lang="en">')

    def test_a_long_date_reads_as_each_language_writes_it(self):
        # Django's Catalan month forms for long dates lack their "de": "2 desembre de 2026"
        when = datetime(2026, 12, 2, 21, 4)
        expected = {
            "en": ["Dec. 2, 2026, 9:04 p.m.", "Aug. 2, 2026, 9:04 p.m."],
            "es": ["2 de diciembre de 2026 a las 21:04", "2 de agosto de 2026 a las 21:04"],
            "ca": ["2 de desembre de 2026 a les 21:04", "2 d'agost de 2026 a les 21:04"],
        }
        for language, dates in expected.items():
            with translation.override(language):
                shown = [date_format(d, "DATETIME_FORMAT") for d in (when, when.replace(month=8))]
            self.assertEqual(shown, dates, language)
