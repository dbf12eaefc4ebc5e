import io
import logging
import sys

from extagram.core.middleware import ClientErrorTracebackFilter, SuspiciousRequestFilter
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


class OversizedFormTests(BaseTestCase):
    def console(self):
        """The site's log handler writing into a buffer for the test; the buffer."""
        (handler,) = [
            handler
            for handler in logging.getLogger().handlers
            if any(isinstance(f, SuspiciousRequestFilter) for f in handler.filters)
        ]
        buffer = io.StringIO()
        self.addCleanup(handler.setStream, handler.setStream(buffer))
        return buffer

    def test_a_form_over_djangos_limits_is_a_400_that_says_why_and_changes_nothing(self):
        self.client.login(username="alice", password=PASSWORD)
        posts = self.owner.posts.count()
        too_much = [{"caption": "x" * 3_000_000}, {f"field{i}": "1" for i in range(1200)}]
        for form in too_much:
            response = self.client.post("/upload/", form)
            self.assertContains(response, "more than this site takes", status_code=400)
        self.assertEqual(self.owner.posts.count(), posts)

    def test_a_form_over_djangos_limits_is_logged_as_one_warning_line(self):
        self.client.login(username="alice", password=PASSWORD)
        log = self.console()
        self.client.post("/upload/", {"caption": "x" * 3_000_000})
        self.client.post("/upload/", {f"field{i}": "1" for i in range(1200)})
        lines = [line for line in log.getvalue().splitlines() if "django.security" in line]
        self.assertEqual(len(lines), 2, log.getvalue())
        self.assertTrue(all(" WARNING " in line for line in lines), lines)
        self.assertNotIn("Traceback", log.getvalue())
