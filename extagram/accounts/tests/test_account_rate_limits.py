"""allauth's own limits: password-reset requests per address and per e-mail address."""

from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import caches
from django.test import override_settings

from extagram.core.tests.test_cache_outage import DEAD_REDIS
from extagram.testing.base import PASSWORD, BaseTestCase


class AccountRateLimitTests(BaseTestCase):
    def test_a_sixth_reset_request_for_one_address_within_a_minute_is_refused(self):
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", verified=True)
        statuses = [
            self.client.post(
                "/accounts/password/reset/", {"email": "alice@example.com"}
            ).status_code
            for _ in range(6)
        ]
        self.assertEqual(statuses, [302] * 5 + [429])
        self.assertEqual(len(mail.outbox), 5)

    def test_the_refusal_is_the_sites_own_429_page(self):
        for _ in range(6):
            response = self.client.post("/accounts/password/reset/", {"email": "x@example.com"})
        self.assertContains(response, "Too many attempts", status_code=429)


@override_settings(CACHES=DEAD_REDIS, DJANGO_REDIS_IGNORE_EXCEPTIONS=True)
class RedisDownTests(BaseTestCase):
    def tearDown(self):
        caches["default"].close()

    def test_a_reset_request_is_refused_as_an_outage_and_logging_in_still_works(self):
        # allauth's limits need the cache's lock, so they refuse (never a 500) while
        # Redis is down: the page says the site is briefly unavailable, not "Slow down"
        # (the visitor's pace is not the cause). Log-ins are limited by django-ratelimit,
        # which lets people in.
        response = self.client.post("/accounts/password/reset/", {"email": "a@example.com"})
        self.assertContains(response, "Back in a moment", status_code=503)
        self.assertNotContains(response, "Too many attempts", status_code=503)
        self.assertEqual(response["Retry-After"], "60")
        response = self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.assertRedirects(response, "/")
