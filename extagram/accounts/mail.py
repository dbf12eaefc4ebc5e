"""Mail for the embedded default: every message as a file, plus a line in the log."""

import logging

from django.core.mail.backends.filebased import EmailBackend

log = logging.getLogger("extagram.mail")


class FileAndLogBackend(EmailBackend):
    """Django's file backend (one .log file per connection in EMAIL_FILE_PATH) that also
    logs "mail to <recipients>: <subject> (written to <file>)" for each message, so the
    person running the site sees where a reset link went without a mail server.
    """

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        for message in email_messages or []:
            log.info(
                "mail to %s: %s (written to %s)",
                ", ".join(message.recipients()),
                message.subject,
                self._fname,
            )
        return sent
