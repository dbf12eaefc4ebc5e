"""Mail without a mail server: every message as a file, plus a line in the log."""

import logging

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend

log = logging.getLogger("extagram.mail")


class FileAndLogBackend(EmailBackend):
    """Django's file backend (one .log file per connection in EMAIL_FILE_PATH) that also
    logs "mail to <recipients>: <subject> (written to <file>)" for each message, so the
    person running the site sees where a reset link went.

    Where that folder cannot be written (the container stack runs with a read-only
    root filesystem and no EMAIL_HOST), the whole message goes to the log instead:
    `docker compose logs app` then shows the link. Sending never fails for lack of a
    folder.
    """

    def __init__(self, *args, **kwargs):
        self.unwritable = None
        try:
            super().__init__(*args, **kwargs)
        except ImproperlyConfigured as e:
            BaseEmailBackend.__init__(self, fail_silently=kwargs.get("fail_silently", False))
            self.stream = None
            self.unwritable = str(e)

    def send_messages(self, email_messages):
        if self.unwritable:
            log.debug("mail folder not writable: %s", self.unwritable)
            for message in email_messages or []:
                log.info(
                    "mail to %s (no EMAIL_HOST set, so it is shown here, not sent):\n%s",
                    ", ".join(message.recipients()),
                    message.message().as_string(),
                )
            return len(email_messages or [])
        sent = super().send_messages(email_messages)
        for message in email_messages or []:
            log.info(
                "mail to %s: %s (written to %s)",
                ", ".join(message.recipients()),
                message.subject,
                self._fname,
            )
        return sent
