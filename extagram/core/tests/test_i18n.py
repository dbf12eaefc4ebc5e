from django.test import TestCase


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
