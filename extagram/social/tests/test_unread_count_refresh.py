"""The header's unread-notifications count: it comes with each page, and one small request
(`/notifications/unread/`, asked by the script when the tab is shown again) refreshes it."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.social.models import UNREAD_SHOWN, Notification
from extagram.testing.base import PASSWORD, BaseTestCase

URL = "/notifications/unread/"


class UnreadCountRefreshTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)

    def notify_alice(self, times=1):
        for _ in range(times):
            Notification.notify(self.owner.pk, self.stranger.pk, Notification.FOLLOW)

    def test_it_answers_the_members_unread_count_and_the_badge_to_show(self):
        self.notify_alice(3)
        response = self.client.get(URL, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(data["unread"], 3)
        badge = '<span class="badge">3<span class="visually-hidden"> unread</span></span>'
        self.assertInHTML(badge, data["html"])

    def test_it_answers_no_badge_when_everything_is_read(self):
        self.notify_alice()
        self.client.get("/notifications/")  # seen: marked read
        self.assertEqual(self.client.get(URL).json(), {"unread": 0, "html": ""})

    def test_it_shows_99_plus_beyond_99_unread(self):
        Notification.objects.bulk_create(
            Notification(recipient=self.owner, actor=self.stranger, kind=Notification.LIKE)
            for _ in range(UNREAD_SHOWN + 5)
        )
        data = self.client.get(URL).json()
        self.assertEqual(data["unread"], UNREAD_SHOWN + 1)
        self.assertIn(f">{UNREAD_SHOWN}+<", data["html"])

    def test_the_badge_is_the_same_as_the_one_the_page_brings(self):
        self.notify_alice(2)
        page = self.client.get("/explore/")
        self.assertContains(page, 'data-unread-url="/notifications/unread/"')
        self.assertContains(page, self.client.get(URL).json()["html"].strip(), html=True)

    def test_it_costs_one_count_whatever_the_number_of_notifications(self):
        self.notify_alice()
        with CaptureQueriesContext(connection) as few:
            self.client.get(URL)
        self.notify_alice(50)
        with CaptureQueriesContext(connection) as many:
            self.client.get(URL)
        self.assertEqual(len(many), len(few))

    def test_it_is_never_cached(self):
        response = self.client.get(URL)
        self.assertIn("no-cache", response["Cache-Control"])
        self.assertIn("private", response["Cache-Control"])

    def test_signed_out_it_answers_401_and_no_count(self):
        self.notify_alice()
        self.client.logout()
        response = self.client.get(URL)
        self.assertEqual(response.status_code, 401)
        self.assertNotIn("unread", response.json())
