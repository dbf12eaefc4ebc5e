"""Changing the e-mail address: the new one must be verified before it replaces the old."""

import functools
import re

from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, TransactionTestCase, override_settings

from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.threads import run_together

from .test_two_factor import enrol

RESET_LINK = "/accounts/password/reset/key/"
TWO_FACTOR_ON = "While two-factor authentication is on, the e-mail address cannot be changed"


class EmailChangeTests(BaseTestCase):
    def setUp(self):
        EmailAddress.objects.create(
            user=self.owner, email="alice@example.com", verified=True, primary=True
        )
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})

    def confirm_link(self, message):
        return re.search(r"http://testserver(/accounts/confirm-email/[^\s]+/)", message.body)[1]

    def change_to(self, address, password=PASSWORD):
        """Ask for `address`, confirming with `password` first as the site asks; the
        response to the password."""
        response = self.client.post("/accounts/email/", {"email": address, "action_add": ""})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        return self.client.post(response["Location"], {"password": password})

    def test_the_new_address_replaces_the_old_once_verified(self):
        self.assertEqual(self.change_to("alice.new@example.com").status_code, 302)
        # Not yet: the old address is still the one that counts.
        self.assertEqual(self.owner.emailaddress_set.get(primary=True).email, "alice@example.com")
        self.assertContains(self.client.get("/accounts/email/"), "pending verification")

        (message,) = mail.outbox
        self.assertEqual(message.to, ["alice.new@example.com"])
        self.assertIn("alice asked to use this address for their account", message.body)
        self.assertNotIn("register an account", message.body)
        link = self.confirm_link(message)
        self.client.post(link)

        addresses = list(self.owner.emailaddress_set.values_list("email", "verified", "primary"))
        self.assertEqual(addresses, [("alice.new@example.com", True, True)])
        # and the old address hears of it, in case the change was not its owner's
        notice = mail.outbox[-1]
        self.assertEqual(notice.to, ["alice@example.com"])
        self.assertIn("alice.new@example.com", notice.body)

    def test_an_open_session_alone_cannot_change_the_address(self):
        # without the password, someone at an unattended (or stolen) session could add
        # their own address, confirm it and reset the password to it
        response = self.client.post(
            "/accounts/email/", {"email": "mallory@example.com", "action_add": ""}
        )
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        wrong = self.client.post(response["Location"], {"password": "not the password"})
        self.assertEqual(wrong.status_code, 400)
        self.assertFalse(EmailAddress.objects.filter(email="mallory@example.com").exists())
        self.assertEqual(mail.outbox, [])

    def test_the_address_in_use_cannot_be_removed(self):
        # allauth let the only address go (sign-in is by username): nothing could reach
        # the account any more, and another could claim the address
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        form = {"email": "alice@example.com", "action_remove": ""}
        response = self.client.post("/accounts/email/", form, follow=True)
        self.assertContains(response, "You cannot remove your primary e-mail address")
        self.assertTrue(EmailAddress.objects.filter(email="alice@example.com").exists())
        self.assertEqual(mail.outbox, [])

    def test_a_pending_address_cannot_be_made_the_one_in_use_unconfirmed(self):
        self.change_to("alice.new@example.com")
        self.client.post(
            "/accounts/email/", {"email": "alice.new@example.com", "action_primary": ""}
        )
        primary = EmailAddress.objects.get(user=self.owner, primary=True)
        self.assertEqual(primary.email, "alice@example.com")

    def test_a_pending_address_gets_no_password_reset_link(self):
        # anyone can type any address as a change: a reset mailed there took the account
        self.change_to("alice.new@example.com")
        self.client.post("/accounts/logout/")
        mail.outbox.clear()
        response = self.client.post("/accounts/password/reset/", {"email": "ALICE.new@example.com"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual([m for m in mail.outbox if RESET_LINK in m.body], [])
        self.client.post("/accounts/password/reset/", {"email": "alice@example.com"})
        self.assertIn(RESET_LINK, mail.outbox[-1].body)

    def test_a_pending_address_does_not_log_in(self):
        self.change_to("alice.new@example.com")
        self.client.post("/accounts/logout/")
        credentials = {"login": "alice.new@example.com", "password": PASSWORD}
        self.assertEqual(self.client.post("/accounts/login/", credentials).status_code, 400)
        self.assertNotContains(self.client.get("/"), "Log out")
        credentials["login"] = "alice@example.com"
        self.assertRedirects(self.client.post("/accounts/login/", credentials), "/")

    def test_a_new_members_own_address_gets_a_reset_link_before_it_is_verified(self):
        self.client.post("/accounts/logout/")
        self.stranger.email = "bob@example.com"
        self.stranger.save()
        EmailAddress.objects.create(user=self.stranger, email="bob@example.com", primary=True)
        mail.outbox.clear()
        self.client.post("/accounts/password/reset/", {"email": "bob@example.com"})
        (message,) = mail.outbox
        self.assertEqual(message.to, ["bob@example.com"])
        self.assertIn(RESET_LINK, message.body)

    def test_an_address_longer_than_the_database_keeps_is_a_form_error_not_a_5xx(self):
        too_long = "z" * 243 + "@example.com"  # 255 characters: the column keeps 254
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        response = self.client.post("/accounts/email/", {"email": too_long, "action_add": ""})
        self.assertContains(response, "at most 254 characters", status_code=400)
        self.assertEqual(
            list(self.owner.emailaddress_set.values_list("email", flat=True)), ["alice@example.com"]
        )
        self.assertEqual(mail.outbox, [])
        response = self.client.post("/accounts/password/reset/", {"email": too_long})
        self.assertContains(response, "at most 254 characters", status_code=400)

    def test_a_verification_asked_again_within_3_minutes_says_it_was_held_back(self):
        # allauth mails an address once every 3 minutes and sent nothing, saying nothing
        self.change_to("alice.new@example.com")
        self.assertEqual(len(mail.outbox), 1)
        again = {"email": "alice.new@example.com", "action_send": ""}
        response = self.client.post("/accounts/email/", again, follow=True)
        self.assertContains(response, "went to alice.new@example.com less than 3 minutes ago")
        self.assertEqual(len(mail.outbox), 1)
        # an address not the member's is not named
        other = {"email": "bob@example.com", "action_send": ""}
        response = self.client.post("/accounts/email/", other, follow=True)
        self.assertNotContains(response, "ago", status_code=400)

    def test_a_change_to_an_address_mailed_a_moment_ago_says_no_mail_went(self):
        # another member's change mailed it first; allauth sent alice nothing and said
        # nothing, and the page showed the change as pending
        bob = Client()
        bob.force_login(self.stranger)
        response = bob.post("/accounts/email/", {"email": "shared@example.com", "action_add": ""})
        bob.post(response["Location"], {"password": PASSWORD})
        self.assertEqual([m.to for m in mail.outbox], [["shared@example.com"]])
        response = self.change_to("shared@example.com")
        page = self.client.get(response["Location"])
        self.assertContains(page, "No confirmation mail went to shared@example.com")
        self.assertEqual(len(mail.outbox), 1)

    def test_a_change_that_is_mailed_says_nothing_of_a_held_back_mail(self):
        response = self.change_to("alice.new@example.com")
        self.assertEqual(len(mail.outbox), 1)
        self.assertNotContains(self.client.get(response["Location"]), "No confirmation mail")

    def test_confirming_an_address_drops_other_accounts_changes_to_it(self):
        # their pages said "Changing to ... Re-send Verification", and re-sending mailed
        # the address's new holder a link that could never work
        EmailAddress.objects.create(
            user=self.stranger, email="bob@example.com", verified=True, primary=True
        )
        pending = EmailAddress.objects.create(user=self.stranger, email="shared@example.com")
        their_link = f"/accounts/confirm-email/{EmailConfirmationHMAC(pending).key}/"
        self.change_to("shared@example.com")
        self.client.post(self.confirm_link(mail.outbox[-1]))
        self.assertTrue(
            EmailAddress.objects.get(user=self.owner, email="shared@example.com").verified
        )
        bobs = EmailAddress.objects.filter(user=self.stranger)
        self.assertEqual(list(bobs.values_list("email", flat=True)), ["bob@example.com"])
        self.assertEqual(Client().get(their_link).status_code, 404)

    def test_an_accounts_only_address_is_kept_and_not_mailed_once_another_confirms_it(self):
        # a sign-up made while alice's change was pending stored its address as not
        # primary; dropped as if a change, its owner's link said "expired" and her page
        # offered to re-send it, which mailed alice a link that could never work
        rita = get_user_model().objects.create_user("rita", password=PASSWORD)
        signed_up = EmailAddress.objects.create(user=rita, email="shared@example.com")
        their_link = f"/accounts/confirm-email/{EmailConfirmationHMAC(signed_up).key}/"
        self.change_to("shared@example.com")
        self.client.post(self.confirm_link(mail.outbox[-1]))
        self.assertTrue(EmailAddress.objects.filter(pk=signed_up.pk).exists())
        self.assertContains(Client().get(their_link), "different account", status_code=409)
        mail.outbox.clear()
        rita_page = Client()
        rita_page.force_login(rita)
        rita_page.post("/accounts/reauthenticate/", {"password": PASSWORD})
        response = rita_page.post(
            "/accounts/email/", {"email": "shared@example.com", "action_send": ""}
        )
        self.assertContains(response, "Another account has confirmed", status_code=400)
        self.assertEqual(mail.outbox, [])

    def test_a_link_to_an_address_another_account_confirmed_answers_409(self):
        # another account's sign-up address is kept (it is that account's only one)
        signed_up = EmailAddress.objects.create(
            user=self.stranger, email="shared@example.com", primary=True
        )
        their_link = f"/accounts/confirm-email/{EmailConfirmationHMAC(signed_up).key}/"
        self.change_to("shared@example.com")
        self.client.post(self.confirm_link(mail.outbox[-1]))
        visitor = Client()
        self.assertContains(visitor.get(their_link), "different account", status_code=409)
        response = visitor.post(their_link, follow=True)
        self.assertContains(response, "different account")
        signed_up.refresh_from_db()
        self.assertFalse(signed_up.verified)

    def test_a_post_that_names_no_address_of_the_member_is_a_400_that_says_so(self):
        # allauth answered each with a redirect and no word
        EmailAddress.objects.create(user=self.stranger, email="bob@example.com", verified=True)
        posts = [
            ({"email": "bob@example.com", "action_remove": ""}, "not one of your"),
            ({"email": "nobody@example.com", "action_primary": ""}, "not one of your"),
            ({"email": "", "action_send": ""}, "not one of your"),
            ({"email": "alice@example.com"}, "Choose what to do"),
            ({"email": "alice@example.com", "action_frobnicate": ""}, "Choose what to do"),
            ({"email": "alice@example.com", "action_send": ""}, "confirmed already"),
        ]
        for data, words in posts:
            with self.subTest(data=data):
                response = self.client.post("/accounts/email/", data)
                self.assertContains(response, words, status_code=400)
        self.assertEqual(EmailAddress.objects.filter(email="bob@example.com").count(), 1)
        self.assertEqual(mail.outbox, [])

    def test_a_pending_change_can_be_cancelled(self):
        self.change_to("alice.new@example.com")
        self.client.post(
            "/accounts/email/", {"email": "alice.new@example.com", "action_remove": ""}
        )
        self.assertFalse(EmailAddress.objects.filter(email="alice.new@example.com").exists())
        self.assertTrue(EmailAddress.objects.filter(email="alice@example.com").exists())

    def test_with_two_factor_on_the_page_says_how_to_change_the_address(self):
        # allauth refuses an unverified address on an account a second factor protects;
        # its message said "cannot add", to someone who wanted to change theirs
        enrol(self.client, self)
        mail.outbox.clear()
        page = self.client.get("/accounts/email/")
        self.assertContains(page, TWO_FACTOR_ON)
        self.assertNotContains(page, 'id="id_email"')  # no field it would refuse
        self.assertNotContains(page, 'name="action_add"')
        form = {"email": "alice.new@example.com", "action_add": ""}
        response = self.client.post("/accounts/email/", form)
        self.assertContains(response, TWO_FACTOR_ON, status_code=400)
        self.assertFalse(EmailAddress.objects.filter(email="alice.new@example.com").exists())
        self.assertEqual(mail.outbox, [])

    def test_without_two_factor_the_page_says_nothing_of_it(self):
        page = self.client.get("/accounts/email/")
        self.assertNotContains(page, TWO_FACTOR_ON)
        self.assertContains(page, 'id="id_email"')

    def test_a_password_change_is_told_to_the_address_on_file(self):
        new = "another long and unusual pass"
        form = {"oldpassword": PASSWORD, "password1": new, "password2": new}
        self.assertEqual(self.client.post("/accounts/password/change/", form).status_code, 302)
        (notice,) = mail.outbox
        self.assertEqual(notice.to, ["alice@example.com"])
        self.assertRegex(notice.body, r"Date: .* UTC\n")  # the time, with its zone

    def test_a_confirmation_link_opens_its_page_and_a_broken_or_used_one_is_a_404(self):
        self.change_to("alice.new@example.com")
        link = self.confirm_link(mail.outbox[0])
        self.assertContains(self.client.get(link), "alice.new@example.com")
        self.client.post(link)
        for broken in (link, link.replace("/confirm-email/", "/confirm-email/x")):
            page = self.client.get(broken)
            self.assertContains(page, "expired or is invalid", status_code=404)
            self.assertContains(page, "This link no longer works", status_code=404)

    def test_the_settings_page_links_to_the_email_page(self):
        self.assertContains(self.client.get("/accounts/settings/"), 'href="/accounts/email/"')

    def test_a_new_member_gets_a_verification_message_at_sign_up(self):
        self.client.post("/accounts/logout/")
        self.client.post(
            "/accounts/signup/",
            {
                "username": "carla",
                "email": "carla@example.com",
                "password1": "a-long-and-unusual-pass",
                "password2": "a-long-and-unusual-pass",
            },
        )
        (message,) = mail.outbox
        self.assertEqual(message.to, ["carla@example.com"])
        self.client.post(self.confirm_link(message))
        self.assertTrue(EmailAddress.objects.get(email="carla@example.com").verified)


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
class MandatoryVerificationTests(BaseTestCase):
    def test_no_log_in_before_the_address_is_verified(self):
        response = self.client.post(
            "/accounts/signup/",
            {
                "username": "carla",
                "email": "carla@example.com",
                "password1": "a-long-and-unusual-pass",
                "password2": "a-long-and-unusual-pass",
            },
        )
        self.assertEqual(response.status_code, 302)
        self.assertNotContains(self.client.get("/"), "Log out")
        (message,) = mail.outbox
        link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+/)", message.body)[1]
        self.client.post(link)
        response = self.client.post(
            "/accounts/login/", {"login": "carla", "password": "a-long-and-unusual-pass"}
        )
        self.assertRedirects(response, "/")


class AnotherMembersAddressTests(BaseTestCase):
    """An address another account has confirmed cannot be added: the site would mail its
    owner on a stranger's say-so, and the stranger's own unconfirmed address would go."""

    def setUp(self):
        EmailAddress.objects.create(
            user=self.stranger, email="bob@example.com", verified=True, primary=True
        )
        self.owner.email = "alice@example.com"
        self.owner.save()
        EmailAddress.objects.create(user=self.owner, email="alice@example.com", primary=True)
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        mail.outbox.clear()

    def test_an_address_another_member_confirmed_is_refused_and_nobody_is_mailed(self):
        for spelling in ("bob@example.com", "BOB@Example.com"):
            response = self.client.post("/accounts/email/", {"email": spelling, "action_add": ""})
            self.assertContains(response, "already registered", status_code=400)
        self.assertEqual(mail.outbox, [])
        addresses = list(self.owner.emailaddress_set.values_list("email", flat=True))
        self.assertEqual(addresses, ["alice@example.com"])
        self.owner.refresh_from_db()
        self.assertEqual(self.owner.email, "alice@example.com")

    def test_an_address_only_pending_on_another_account_can_still_be_claimed(self):
        EmailAddress.objects.filter(user=self.stranger).update(verified=False)
        response = self.client.post(
            "/accounts/email/", {"email": "bob@example.com", "action_add": ""}
        )
        self.assertEqual(response.status_code, 302)
        (message,) = mail.outbox
        self.assertEqual(message.to, ["bob@example.com"])


class ConfirmationsSentAtOnceTests(TransactionTestCase):
    """One address pending on several accounts, each confirming it at the same moment
    (their links followed at once): one account holds it, verified and in use; the
    others' confirmations fail as a late one does. MariaDB keeps no verified address
    unique (allauth's conditional constraint is W036 there); two or three accounts came
    out holding it (a helper's trial)."""

    ADDRESS = "shared@example.com"

    def pending_on(self, username, primary):
        member = get_user_model().objects.create_user(username, password=PASSWORD)
        address = EmailAddress.objects.create(user=member, email=self.ADDRESS, primary=primary)
        return f"/accounts/confirm-email/{EmailConfirmationHMAC(address).key}/"

    def follow(self, link, answers):
        answers.append(Client().post(link))

    def test_one_account_holds_the_address_however_many_confirm_it_at_once(self):
        for n in range(4):
            EmailAddress.objects.filter(email=self.ADDRESS).delete()
            links = [self.pending_on(f"m{n}{k}", primary=k == 0) for k in range(3)]
            answers = []
            run_together(*(functools.partial(self.follow, link, answers) for link in links))
            # a later one finds the address held (302, as allauth answers a post)
            self.assertEqual([answer.status_code for answer in answers], [302, 302, 302])
            (held,) = EmailAddress.objects.filter(email=self.ADDRESS, verified=True)
            # the others were each account's only address: kept, unverified (their links
            # answer 409), never dropped as a change is
            left = EmailAddress.objects.filter(email=self.ADDRESS).exclude(pk=held.pk)
            self.assertEqual(left.count(), 2)

    def test_a_link_followed_twice_at_once_confirms_it_once(self):
        link = self.pending_on("dora", primary=True)
        answers = []
        run_together(*[functools.partial(self.follow, link, answers)] * 2)
        # the second finds it confirmed (302), or its link used (404), as when followed later
        self.assertIn(sorted(answer.status_code for answer in answers), ([302, 302], [302, 404]))
        (address,) = EmailAddress.objects.filter(email=self.ADDRESS)
        self.assertTrue(address.verified)
        self.assertTrue(address.primary)
