"""The admin's bulk actions with a malformed selection: a 400 and nothing changed."""

from django.contrib import admin
from django.contrib.auth.models import Group

from extagram.core.admin import ExtagramAdminSite
from extagram.testing.base import PASSWORD, BaseTestCase

BAD_SELECTIONS = ["abc", "", "..", "1e309", "1.5", "-"]


class AdminBulkActionTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="sam", password=PASSWORD)

    def changelists(self):
        for model in admin.site._registry:
            meta = model._meta
            yield f"/admin/{meta.app_label}/{meta.model_name}/"

    def test_the_admin_site_is_extagrams(self):
        self.assertIsInstance(admin.site, ExtagramAdminSite)

    def test_a_selection_that_is_not_an_id_is_refused_on_every_list(self):
        Group.objects.create(name="moderators")
        lists = list(self.changelists())
        self.assertGreater(len(lists), 5)
        for path in lists:
            for value in BAD_SELECTIONS:
                response = self.client.post(
                    path, {"action": "delete_selected", "_selected_action": [value], "index": 0}
                )
                self.assertEqual(response.status_code, 400, (path, value))
        self.assertTrue(Group.objects.filter(name="moderators").exists())

    def test_a_good_selection_still_reaches_the_action(self):
        group = Group.objects.create(name="moderators")
        response = self.client.post(
            "/admin/auth/group/",
            {"action": "delete_selected", "_selected_action": [group.pk], "index": 0},
        )
        self.assertEqual(response.status_code, 200)  # Django's "Are you sure?" page
        self.assertContains(response, 'name="post" value="yes"')
        self.assertContains(response, "moderators")
