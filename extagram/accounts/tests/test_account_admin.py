"""Staff find members by handle, e-mail or display name, deactivate them, and see why a
name was refused or changed."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from extagram.accounts.models import HandleChange, Profile
from extagram.testing.base import PASSWORD, BaseTestCase

User = get_user_model()


class AccountAdminTests(BaseTestCase):
    def setUp(self):
        self.client.force_login(self.staff)
        Profile.objects.filter(user=self.owner).update(display_name="Alícia Puig")
        EmailAddress.objects.create(user=self.owner, email="alicia@uni.example", verified=True)

    def search(self, term):
        response = self.client.get("/admin/auth/user/", {"q": term})
        self.assertEqual(response.status_code, 200)
        return set(response.context["cl"].result_list.values_list("username", flat=True))

    def test_staff_find_a_member_by_handle_email_or_display_name(self):
        self.assertEqual(self.search("alice"), {"alice"})
        self.assertEqual(self.search("@ALICE"), {"alice"})
        self.assertEqual(self.search("alicia@uni"), {"alice"})
        self.assertEqual(self.search("Puig"), {"alice"})

    def test_the_list_shows_display_names(self):
        self.assertContains(self.client.get("/admin/auth/user/"), "Alícia Puig")

    def test_staff_deactivate_an_account_which_is_logged_out_and_hidden(self):
        member = Client()
        member.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.assertContains(member.get("/"), "Log out")
        response = self.client.post(
            "/admin/auth/user/",
            {"action": "deactivate", "_selected_action": [self.owner.pk]},
            follow=True,
        )
        self.assertContains(response, "1 account deactivated.")
        self.owner.refresh_from_db()
        self.assertFalse(self.owner.is_active)
        self.assertNotContains(member.get("/"), "Log out")
        self.assertEqual(self.client.get("/u/alice/").status_code, 404)
        again = Client()
        response = again.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.assertRedirects(response, "/accounts/inactive/")
        self.assertNotContains(again.get("/"), "Log out")

    def test_staff_cannot_deactivate_themselves_by_accident(self):
        response = self.client.post(
            "/admin/auth/user/",
            {"action": "deactivate", "_selected_action": [self.staff.pk, self.owner.pk]},
            follow=True,
        )
        self.staff.refresh_from_db()
        self.assertTrue(self.staff.is_active)
        self.assertContains(response, "Your own account was left active")
        self.assertContains(response, "1 account deactivated.")

    def add(self, username):
        fields = {"password1": "x-long-pass-123", "password2": "x-long-pass-123"}
        fields.update(username=username, usable_password="true")
        return self.client.post("/admin/auth/user/add/", fields)

    def test_the_add_form_names_the_rule_a_refused_name_breaks(self):
        # each a 400 with the form again (core.middleware.FormErrorsAre400Middleware)
        self.assertContains(self.add(".."), "cannot start or end with a dot", status_code=400)
        self.assertContains(self.add("Admin"), "reserved", status_code=400)
        self.assertContains(self.add("ALICE"), "already has this username", status_code=400)
        self.assertEqual(User.objects.count(), 3)

    def test_the_reasons_a_name_was_changed_are_on_the_member_and_in_a_list(self):
        HandleChange.objects.create(
            user=self.stranger, old_username="Bob..", new_handle="bob", reasons="dots"
        )
        page = self.client.get(f"/admin/auth/user/{self.stranger.pk}/change/")
        self.assertContains(page, "Bob..")
        listing = self.client.get("/admin/accounts/handlechange/")
        self.assertContains(listing, "Bob..")
        self.assertContains(listing, "dots")

    def test_editing_a_member_keeps_working(self):
        page = self.client.get(f"/admin/auth/user/{self.owner.pk}/change/")
        self.assertContains(page, "Alícia Puig")

    def test_staff_add_a_member_whose_name_is_stored_canonical(self):
        self.assertEqual(self.add("Carla.Diaz").status_code, 302)
        self.assertEqual(Profile.objects.get(user__username="carla.diaz").handle, "carla.diaz")
