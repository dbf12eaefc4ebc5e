"""The embedded default sends no mail: messages become files under data/ and log lines."""

import re
from pathlib import Path

from allauth.account.models import EmailAddress
from django.test import override_settings

from extagram.testing.base import BaseTestCase

BACKEND = "extagram.accounts.mail.FileAndLogBackend"


class MailWithoutAServerTests(BaseTestCase):
    def setUp(self):
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)

    def request_reset(self):
        with self.assertLogs("extagram.mail", "INFO") as logs:
            response = self.client.post("/accounts/password/reset/", {"email": "alice@example.com"})
        self.assertEqual(response.status_code, 302)
        return logs.output

    def test_a_reset_message_is_written_to_a_file_and_logged(self):
        folder = Path(self.settings_dir()) / "mail"
        with override_settings(EMAIL_BACKEND=BACKEND, EMAIL_FILE_PATH=folder):
            output = self.request_reset()
        (written,) = folder.iterdir()
        text = written.read_text()
        self.assertIn("To: alice@example.com", text)
        link = re.search(r"http://testserver/accounts/password/reset/key/\S+", text)
        self.assertIsNotNone(link)
        self.assertIn("mail to alice@example.com", output[0])
        self.assertIn(str(written), output[0])

    def test_where_no_folder_can_be_written_the_whole_message_is_logged(self):
        blocker = Path(self.settings_dir()) / "not-a-folder"
        blocker.write_text("a file where the mail folder should be")
        with override_settings(EMAIL_BACKEND=BACKEND, EMAIL_FILE_PATH=blocker / "mail"):
            output = self.request_reset()
        self.assertIn("/accounts/password/reset/key/", output[0])
        self.assertIn("no EMAIL_HOST set, so it is shown here, not sent", output[0])
        self.assertNotIn(str(blocker), output[0])  # the folder's error is not what it says

    def settings_dir(self):
        from django.conf import settings

        return Path(settings.MEDIA_ROOT).parent
