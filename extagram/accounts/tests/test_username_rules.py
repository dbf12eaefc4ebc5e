"""Each handle rule, at sign-up and in the database."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import SimpleTestCase
from django.utils import translation

from extagram.accounts.models import Profile
from extagram.accounts.usernames import (
    HANDLE_MAX,
    canonical,
    handle_problems,
    reserved_names,
    suggest_handle,
)
from extagram.testing.base import PASSWORD, BaseTestCase

User = get_user_model()
CYRILLIC_A = "\u0430"  # looks exactly like Latin "a"


def codes(name):
    return {code for code, _ in handle_problems(canonical(name))}


class HandleRuleTests(SimpleTestCase):
    def test_letter_case_and_width_have_one_canonical_form(self):
        for typed in ("Alice", "ALICE", "alice", "ＡＬＩＣＥ", "Ａlice"):
            self.assertEqual(canonical(typed), "alice", typed)

    def test_non_ascii_case_pairs_fold_to_one_form(self):
        self.assertEqual(canonical("Émilie_x"), canonical("émilie_x"))
        self.assertEqual(canonical("STRASSE"), canonical("straße"))

    def test_dot_names_are_refused(self):
        for name in (".", "..", "...", ".alice", "alice.", "al..ice"):
            self.assertIn("dots", codes(name), name)

    def test_single_dots_inside_are_fine(self):
        self.assertEqual(codes("ana.maria"), set())
        self.assertEqual(codes("a.b.c_1"), set())

    def test_only_letters_digits_underscore_and_dot(self):
        for name in ("al ice", "al-ice", "al@ice", "al/ice", "al%ice", "al+ice", "a'b"):
            self.assertIn("charset", codes(name), name)

    def test_letters_of_other_scripts_are_refused_with_a_pointer_to_display_names(self):
        for name in (f"{CYRILLIC_A}lice", "émilie_x", "δημήτρης", "山田", "ali\u0301ce"):
            self.assertIn("not_ascii", codes(name), name)
        with translation.override("en"):
            message = str(dict(handle_problems(canonical("émilie")))["not_ascii"])
        self.assertIn("display name", message)

    def test_invisible_characters_are_refused(self):
        for name in ("al\u200bice", "al\u200dice", "alice\u202e", "al\u00adice"):
            self.assertTrue(codes(name) & {"charset", "not_ascii"}, repr(name))

    def test_the_length_fits_a_phone(self):
        self.assertEqual(codes("a" * HANDLE_MAX), set())
        self.assertIn("too_long", codes("a" * (HANDLE_MAX + 1)))

    def test_every_first_url_segment_is_reserved(self):
        for name in ("accounts", "admin", "upload", "u", "p", "c", "healthz", "media", "static"):
            self.assertIn(name, reserved_names())
            self.assertIn("reserved", codes(name), name)

    def test_words_of_the_site_are_reserved_in_any_case(self):
        for name in ("API", "Explore", "settings", "login", "logout", "signup", "www", "root"):
            self.assertIn("reserved", codes(name), name)

    def test_staff_words_with_separators_are_reserved(self):
        for name in ("_admin", "admin_", "ad_min", "sup.port", "extagram_", "admin_2", "root7"):
            self.assertIn("reserved", codes(name), name)

    def test_an_empty_name_is_refused(self):
        self.assertEqual(codes(""), {"required"})

    def test_suggestions_are_valid_and_free(self):
        self.assertEqual(suggest_handle("Émilie_x", set()), "emilie_x")
        self.assertEqual(suggest_handle("..", set()), "member")
        self.assertEqual(suggest_handle("admin", set()), "member")
        self.assertEqual(suggest_handle("admin", {"member"}), "member_2")
        self.assertEqual(suggest_handle(f"{CYRILLIC_A}lice", {"alice"}), "alice_2")
        self.assertEqual(suggest_handle("Алиса", set()), "member")
        self.assertEqual(suggest_handle("Bob", {"bob"}), "bob_2")
        long = suggest_handle("x" * 150, {"x" * HANDLE_MAX})
        self.assertEqual((len(long), long[-2:]), (HANDLE_MAX, "_2"))
        for name in ("a..b", "Ωmega", "__x__", "a" * 200):
            self.assertEqual(handle_problems(suggest_handle(name, set())), [], name)


class SignupEnforcesTheRulesTests(BaseTestCase):
    def signup(self, username):
        return self.client.post(
            "/accounts/signup/",
            {
                "username": username,
                "email": "new@example.com",
                "password1": "a-long-and-unusual-pass",
                "password2": "a-long-and-unusual-pass",
            },
        )

    def test_it_stores_the_canonical_handle(self):
        self.signup("Carla.Diaz")
        self.assertTrue(User.objects.filter(username="carla.diaz").exists())
        self.assertEqual(Profile.objects.get(user__username="carla.diaz").handle, "carla.diaz")

    def test_names_that_differ_only_by_case_or_width_are_taken(self):
        for name in ("ALICE", "Ａｌｉｃｅ", "alice"):
            response = self.signup(name)
            self.assertContains(response, "already", status_code=400, msg_prefix=name)
        self.assertEqual(User.objects.count(), 3)

    def test_a_look_alike_in_another_script_is_refused(self):
        response = self.signup(f"{CYRILLIC_A}lice")
        self.assertContains(response, "display name", status_code=400)
        self.assertEqual(User.objects.count(), 3)

    def test_dot_and_reserved_names_are_refused_with_the_rule(self):
        for name, words in (("..", "dot"), (".", "dot"), ("admin", "reserved"), ("u", "reserved")):
            response = self.signup(name)
            self.assertContains(response, words, status_code=400, msg_prefix=name)
        self.assertEqual(User.objects.count(), 3)

    def test_a_name_too_long_for_a_phone_is_refused(self):
        response = self.signup("a" * (HANDLE_MAX + 1))
        self.assertContains(response, "at most 30", status_code=400)

    def test_a_name_longer_than_the_database_column_is_refused_by_the_same_rule(self):
        # the column's 150 stopped the form first, naming 150 as the limit
        response = self.signup("a" * 5000)
        self.assertContains(response, "at most 30 characters (this one has 5000)", status_code=400)
        self.assertNotContains(response, "150", status_code=400)
        self.client.force_login(self.owner)
        self.client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        response = self.client.post("/accounts/username/", {"username": "b" * 5000})
        self.assertContains(response, "at most 30 characters (this one has 5000)", status_code=400)

    def test_the_form_explains_the_rules(self):
        self.assertContains(self.client.get("/accounts/signup/"), "letters a–z, digits")

    def test_old_mixed_case_profile_links_are_found(self):
        self.assertEqual(self.client.get("/u/alice/").status_code, 200)


class DatabaseEnforcesOneHandleTests(BaseTestCase):
    def test_the_database_refuses_a_second_account_with_the_same_canonical_handle(self):
        # Past the forms: the profile's unique handle column is the last word.
        with self.assertRaises(IntegrityError), transaction.atomic():
            User.objects.create_user("ALICE", password="x")
        self.assertEqual(User.objects.filter(username__iexact="alice").count(), 1)

    def test_the_profile_handle_is_unique_on_its_own(self):
        carla = User.objects.create_user("carla")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Profile.objects.filter(user=carla).update(handle="alice")

    def test_any_way_of_creating_a_user_stores_the_canonical_form(self):
        user = User.objects.create_user("Dani_X")
        self.assertEqual((user.username, user.profile.handle), ("dani_x", "dani_x"))
        user.username = "Dani.Y"
        user.save()
        user.profile.refresh_from_db()
        self.assertEqual(user.profile.handle, "dani.y")


class EveryUserHasAHandleTests(BaseTestCase):
    def test_bulk_seeded_members_get_their_profile_too(self):
        from io import StringIO

        from django.core.management import call_command

        call_command("seed_posts", posts=2, users=2, photos=1, stdout=StringIO())
        without = User.objects.filter(profile__isnull=True)
        self.assertEqual(list(without.values_list("username", flat=True)), [])
