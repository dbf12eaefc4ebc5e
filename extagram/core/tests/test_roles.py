from django.test import TestCase, override_settings

from extagram.testing.base import PASSWORD, BaseTestCase


@override_settings(ROLE="app")
class AppRoleTests(BaseTestCase):
    def test_the_app_role_serves_pages_but_not_uploads(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get("/").status_code, 200)
        self.assertEqual(self.client.get("/upload/").status_code, 404)

    def test_the_app_role_still_links_to_the_upload_page(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertContains(self.client.get("/"), 'href="/upload/"')


@override_settings(ROLE="upload")
class UploadRoleTests(BaseTestCase):
    def test_the_upload_role_serves_only_uploads_and_health(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get("/upload/").status_code, 200)
        self.assertEqual(self.client.get("/healthz").status_code, 200)
        self.assertEqual(self.client.get("/readyz").status_code, 200)
        for path in ("/", "/accounts/login/", "/admin/", "/u/alice/"):
            self.assertEqual(self.client.get(path).status_code, 404, path)


class AllRoleTests(TestCase):
    def test_the_default_role_serves_everything(self):
        self.assertEqual(self.client.get("/").status_code, 200)
        self.assertEqual(self.client.get("/upload/").status_code, 302)  # to log in
