"""allauth's own limits: password-reset requests per address and per e-mail address."""

from allauth.account.models import EmailAddress
from django.core import mail

from extagram.testing.base import BaseTestCase


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
