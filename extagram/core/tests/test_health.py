import logging
from unittest import mock

from django.db import OperationalError
from django.test import TestCase

from extagram.core.middleware import RequestIdFilter, current_request_id


class HealthTests(TestCase):
    def test_healthz_says_the_process_is_alive(self):
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["status"], "ok")

    def test_readyz_checks_database_and_cache(self):
        response = self.client.get("/readyz")
        self.assertEqual(response.json(), {"status": "ok", "database": "ok", "cache": "ok"})

    def test_readyz_is_503_when_the_database_is_down(self):
        with mock.patch("extagram.core.views._database_ok", return_value=False):
            response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["database"], "down")

    def test_readyz_is_503_when_the_cache_is_down(self):
        with mock.patch("django.core.cache.cache.get", return_value=None):
            response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["cache"], "down")

    def test_responses_name_the_replica_version_and_request(self):
        response = self.client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
        self.assertEqual(response["X-Request-ID"], "abc-123")
        self.assertTrue(response["X-Served-By"])
        self.assertTrue(response["X-Extagram-Version"])

    def test_djangos_log_line_for_a_4xx_carries_the_request_id(self):
        # it is written after the middleware returns; it said [-]
        logger = logging.getLogger("django.request")
        request_ids = RequestIdFilter()
        logger.addFilter(request_ids)
        try:
            with self.assertLogs("django.request", "WARNING") as logs:
                self.client.get("/p/999999/", HTTP_X_REQUEST_ID="rid-404")
        finally:
            logger.removeFilter(request_ids)
        self.assertEqual([record.request_id for record in logs.records], ["rid-404"])
        self.assertEqual(current_request_id(), "-")  # and forgotten once the answer is sent

    def test_a_malformed_request_id_is_replaced(self):
        response = self.client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
        self.assertRegex(response["X-Request-ID"], r"^[0-9a-f]{32}$")


class DatabaseOutageTests(TestCase):
    def test_a_database_outage_shows_a_503_page_not_a_traceback(self):
        self.client.raise_request_exception = False
        with mock.patch(
            "extagram.posts.models.PostQuerySet.page_ids",
            side_effect=OperationalError('(2003, "Can\'t connect to MySQL server")'),
        ):
            response = self.client.get("/")
        self.assertContains(response, "temporarily unavailable", status_code=503)
        self.assertNotContains(response, "Traceback", status_code=503)
        self.assertNotContains(response, "MySQL", status_code=503)

    def test_a_signed_in_member_gets_the_503_page_too_when_their_session_cannot_be_read(self):
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import get_user_model

        self.client.force_login(get_user_model().objects.create_user("ana"))
        self.client.raise_request_exception = False
        outage = OperationalError('(2003, "Can\'t connect to MySQL server")')
        # db sessions on the embedded default, cached_db with Redis: whichever is in use
        engine = import_module(settings.SESSION_ENGINE).SessionStore
        with mock.patch.object(engine, "load", side_effect=outage):
            response = self.client.get("/")
        self.assertContains(response, "temporarily unavailable", status_code=503)
        self.assertContains(response, "<h1>Back in a moment</h1>", status_code=503)

    def test_other_errors_show_a_plain_500_page(self):
        self.client.raise_request_exception = False
        with mock.patch(
            "extagram.posts.models.PostQuerySet.page_ids", side_effect=RuntimeError("bug")
        ):
            response = self.client.get("/")
        self.assertContains(response, "Something went wrong", status_code=500)
        self.assertNotContains(response, "RuntimeError", status_code=500)
