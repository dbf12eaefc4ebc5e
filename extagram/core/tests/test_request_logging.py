import logging
import sys

from extagram.core.middleware import ClientErrorTracebackFilter
from extagram.testing.base import PASSWORD, BaseTestCase


class ClientErrorLoggingTests(BaseTestCase):
    def test_a_bad_request_is_logged_as_one_line_without_a_traceback(self):
        self.client.login(username="alice", password=PASSWORD)
        with self.assertLogs("django.request", level="WARNING") as logs:
            response = self.client.post("/u/alice/follow/")
        self.assertEqual(response.status_code, 400)
        (record,) = logs.records
        self.assertEqual(record.status_code, 400)
        self.assertIsNone(record.exc_info)
        self.assertNotIn("Traceback", "\n".join(logs.output))

    def test_a_server_error_keeps_its_traceback(self):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            record = logging.LogRecord(
                "django.request",
                logging.ERROR,
                __file__,
                1,
                "Internal Server Error",
                (),
                sys.exc_info(),
            )
        record.status_code = 500
        self.assertTrue(ClientErrorTracebackFilter().filter(record))
        self.assertIsNotNone(record.exc_info)
