"""The account pages speak the visitor's language (Spanish and Catalan)."""

from django.utils import translation

from extagram.testing.base import PASSWORD, BaseTestCase


class AccountPagesTranslatedTests(BaseTestCase):
    def tearDown(self):
        translation.activate("en")  # the requests left the thread in Spanish or Catalan

    def test_settings_delete_and_export_in_spanish_and_catalan(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        for language, words in (
            ("es", ("Ajustes", "Descargar mis datos", "Eliminar mi cuenta", "Nombre visible")),
            ("ca", ("Configuració", "Descarrega les meves dades", "Elimina el meu compte")),
        ):
            page = self.client.get("/accounts/settings/", headers={"accept-language": language})
            for word in words:
                self.assertContains(page, word, msg_prefix=language)

    def test_the_username_rules_are_explained_in_the_pages_language(self):
        for language, words in (("es", "Hasta 30 caracteres"), ("ca", "Fins a 30 caràcters")):
            page = self.client.get("/accounts/signup/", headers={"accept-language": language})
            self.assertContains(page, words, msg_prefix=language)

    def test_a_refused_username_is_explained_in_spanish(self):
        response = self.client.post(
            "/accounts/signup/",
            {
                "username": "..",
                "email": "x@example.com",
                "password1": "a-long-and-unusual-pass",
                "password2": "a-long-and-unusual-pass",
            },
            headers={"accept-language": "es"},
        )
        self.assertContains(response, "dos puntos seguidos", status_code=400)
