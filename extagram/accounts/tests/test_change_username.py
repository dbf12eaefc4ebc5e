"""A member changes their username in settings, under the same rules as at sign-up."""

import functools

from django.contrib.auth import get_user_model
from django.test import TransactionTestCase

from extagram.accounts.models import HandleChange
from extagram.testing.base import PASSWORD, BaseTestCase, post_in_a_tab, signed_in
from extagram.testing.threads import run_together

User = get_user_model()


class ChangeUsernameTests(BaseTestCase):
    def setUp(self):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})

    def change(self, name):
        return self.client.post("/accounts/username/", {"username": name})

    def test_a_member_picks_a_new_handle_and_keeps_their_posts(self):
        post = self.make_post()
        response = self.change("Alicia.Puig")
        self.assertRedirects(response, "/accounts/settings/")
        self.owner.refresh_from_db()
        self.assertEqual((self.owner.username, self.owner.profile.handle), ("alicia.puig",) * 2)
        self.assertContains(self.client.get("/u/alicia.puig/"), f"/p/{post.pk}/")
        self.assertEqual(self.client.get("/u/alice/").status_code, 404)
        change = HandleChange.objects.get(user=self.owner)
        self.assertEqual((change.old_username, change.new_handle), ("alice", "alicia.puig"))
        response = self.client.post(
            "/accounts/login/", {"login": "alicia.puig", "password": PASSWORD}
        )
        self.assertEqual(response.status_code, 302)

    def test_every_rule_applies(self):
        for name, words in (
            ("..", "dot"),
            ("admin", "reserved"),
            ("BOB", "already"),
            ("\u0430lice", "display name"),
            ("a" * 31, "at most 30"),
            ("alice", "already your username"),
        ):
            response = self.change(name)
            self.assertContains(response, words, status_code=400, msg_prefix=name)
        self.owner.refresh_from_db()
        self.assertEqual(self.owner.username, "alice")
        self.assertFalse(HandleChange.objects.exists())

    def test_the_settings_page_links_to_it(self):
        self.assertContains(self.client.get("/accounts/settings/"), 'href="/accounts/username/"')


class ChangeSentTwiceAtOnceTests(TransactionTestCase):
    """The same change sent twice at once (a double click): made and recorded once; the
    repeat says the name is already the member's. It was recorded twice in staff's
    history, or answered that another member had the name (a sweep, on SQLite)."""

    def test_it_is_made_and_recorded_once(self):
        for n in range(4):
            member = User.objects.create_user(f"dora{n}", password=PASSWORD)
            answers, change = [], {"username": "dora_new"}
            send = functools.partial(
                post_in_a_tab, signed_in(member), "/accounts/username/", change, answers
            )
            run_together(send, send)
            codes = sorted(answer.status_code for answer in answers)
            self.assertEqual(codes, [302, 400])
            repeat = next(answer for answer in answers if answer.status_code == 400)
            self.assertContains(repeat, "That is already your username.", status_code=400)
            changes = HandleChange.objects.filter(user=member)
            self.assertEqual(
                list(changes.values_list("old_username", "new_handle")),
                [(member.username, "dora_new")],
            )
            member.refresh_from_db()
            member.username = f"dora{n}_done"  # frees dora_new for the next round
            member.save()
