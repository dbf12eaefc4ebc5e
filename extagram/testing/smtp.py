"""A real SMTP server on loopback for tests (aiosmtpd), and the links in what it received."""

import email
import email.policy
import re
import socket
import threading
from contextlib import contextmanager

LINK = re.compile(r"https?://[^\s<>\"']+")


class Inbox:
    """Messages an SMTPServer received, as email.message.EmailMessage objects."""

    def __init__(self):
        self.messages = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count, timeout=10):
        """Block until `count` messages have arrived (AssertionError after `timeout` s)."""
        with self._arrived:
            ok = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert ok, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages[count - 1]

    @staticmethod
    def links(message):
        body = message.get_body(preferencelist=("plain", "html")).get_content()
        return LINK.findall(body)


@contextmanager
def smtp_server():
    """Start aiosmtpd on 127.0.0.1 (a free port); yields (inbox, port)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # aiosmtpd's start-up check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
