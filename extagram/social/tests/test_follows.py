from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from extagram.social.models import Follow
from extagram.testing.base import PASSWORD, BaseTestCase


class FollowTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="bob", password=PASSWORD)

    def test_a_member_follows_someone_from_their_profile_with_a_plain_form(self):
        page = self.client.get("/u/alice/")
        self.assertContains(page, 'action="/u/alice/follow/"')
        response = self.client.post("/u/alice/follow/", {"next": "/u/alice/"})
        self.assertRedirects(response, "/u/alice/", fetch_redirect_response=False)
        self.assertTrue(Follow.objects.filter(follower=self.stranger, followee=self.owner).exists())
        page = self.client.get("/u/alice/")
        self.assertContains(page, 'action="/u/alice/unfollow/"')
        self.assertContains(page, "<strong>1</strong> follower")

    def test_following_twice_leaves_one_follow(self):
        self.client.post("/u/alice/follow/")
        self.client.post("/u/alice/follow/")
        self.assertEqual(Follow.objects.count(), 1)
        self.assertFalse(Follow.follow(self.stranger, self.owner))

    def test_the_database_refuses_a_second_copy_of_a_follow(self):
        Follow.objects.create(follower=self.stranger, followee=self.owner)
        with self.assertRaises(IntegrityError), transaction.atomic():
            Follow.objects.create(follower=self.stranger, followee=self.owner)

    def test_nobody_can_follow_themselves(self):
        response = self.client.post("/u/bob/follow/")
        self.assertContains(response, "You cannot follow yourself.", status_code=400)
        self.assertContains(response, "<h1>Bad request</h1>", status_code=400)  # the site's page
        self.assertEqual(Follow.objects.count(), 0)
        self.assertNotContains(self.client.get("/u/bob/"), "/u/bob/follow/")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Follow.objects.create(follower=self.stranger, followee=self.stranger)

    def test_unfollowing_is_idempotent(self):
        Follow.follow(self.stranger, self.owner)
        self.client.post("/u/alice/unfollow/")
        response = self.client.post("/u/alice/unfollow/")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Follow.objects.count(), 0)

    def test_the_script_gets_the_new_button_and_count_as_json(self):
        response = self.client.post("/u/alice/follow/", headers={"Accept": "application/json"})
        data = response.json()
        self.assertEqual((data["following"], data["followers"]), (True, 1))
        self.assertIn("/u/alice/unfollow/", data["html"])

    def test_following_needs_sign_in_and_a_post(self):
        self.assertEqual(self.client.put("/u/alice/follow/").status_code, 405)
        self.assertEqual(Follow.objects.count(), 0)
        self.client.logout()
        response = self.client.post("/u/alice/follow/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
        self.assertEqual(Follow.objects.count(), 0)

    def test_following_someone_unknown_is_a_404(self):
        self.assertEqual(self.client.post("/u/nobody/follow/").status_code, 404)

    def test_a_redirect_target_off_the_site_is_ignored(self):
        response = self.client.post("/u/alice/follow/", {"next": "https://evil.example/"})
        self.assertEqual(response["Location"], "/u/alice/")

    def test_followers_and_following_lists_show_the_people(self):
        Follow.follow(self.stranger, self.owner)
        Follow.follow(self.staff, self.owner)
        followers = self.client.get("/u/alice/followers/")
        self.assertContains(followers, 'href="/u/bob/"')
        self.assertContains(followers, 'href="/u/sam/"')
        following = self.client.get("/u/bob/following/")
        self.assertContains(following, 'href="/u/alice/"')
        self.assertContains(self.client.get("/u/alice/"), "<strong>2</strong> followers")

    def test_a_list_at_another_spelling_of_the_handle_redirects_to_the_canonical_one(self):
        for which in ("followers", "following"):
            response = self.client.get(f"/u/ALICE/{which}/?before=5")
            self.assertEqual(response.status_code, 301)
            self.assertEqual(response["Location"], f"/u/alice/{which}/?before=5")
            self.assertEqual(self.client.get(f"/u/nobody/{which}/").status_code, 404)

    def test_a_handle_with_trailing_spaces_or_another_accent_is_a_404(self):
        # MariaDB's comparison ignores trailing spaces and accents: /u/alice%20/ was
        # alice's page, and /u/ALICE%20/ redirected there
        for path in ("alice%20", "ALICE%20", "alice%C2%A0", "alic%C3%A9"):
            for page in ("", "followers/", "following/"):
                response = self.client.get(f"/u/{path}/{page}")
                self.assertEqual(response.status_code, 404, f"{path}/{page}")

    def test_deactivated_accounts_are_in_no_list_and_no_count(self):
        Follow.follow(self.stranger, self.owner)
        Follow.follow(self.staff, self.owner)
        Follow.follow(self.owner, self.staff)
        self.staff.is_active = False
        self.staff.save()
        self.assertNotContains(self.client.get("/u/alice/followers/"), 'href="/u/sam/"')
        self.assertNotContains(self.client.get("/u/alice/following/"), 'href="/u/sam/"')
        profile = self.client.get("/u/alice/")
        self.assertContains(profile, "<strong>1</strong> follower")
        self.assertContains(profile, "<strong>0</strong> following")
        self.assertEqual(Follow.counts(self.owner), {"followers": 1, "following": 0})

    def test_the_lists_page_with_a_cursor(self):
        from extagram.social import views

        Follow.follow(self.stranger, self.owner)
        Follow.follow(self.staff, self.owner)
        self.client.logout()  # the header would name bob
        old, views.LIST_PAGE_SIZE = views.LIST_PAGE_SIZE, 1
        try:
            first = self.client.get("/u/alice/followers/")
            self.assertContains(first, 'href="/u/sam/"')
            self.assertNotContains(first, 'href="/u/bob/"')
            cursor = Follow.objects.get(follower=self.staff).pk
            second = self.client.get(f"/u/alice/followers/?before={cursor}")
            self.assertContains(second, 'href="/u/bob/"')
        finally:
            views.LIST_PAGE_SIZE = old
        self.assertEqual(self.client.get("/u/alice/followers/?before=x").status_code, 400)

    def test_a_full_page_reads_on_past_closed_accounts(self):
        from django.contrib.auth import get_user_model

        from extagram.social.people_items import PersonRow

        members = get_user_model().objects.bulk_create(
            get_user_model()(username=f"fan{n}", is_active=n % 3 != 0) for n in range(9)
        )
        for member in members:
            Follow.follow(member, self.owner)
        with CaptureQueriesContext(connection) as statements:
            first = PersonRow.follows(self.owner.pk, "followers", None, 4)
        # newest follow first, the closed fan6, fan3 and fan0 left out by their follows'
        # flags: one round, the follows and their members
        self.assertEqual([row.username for row in first], ["fan8", "fan7", "fan5", "fan4"])
        self.assertEqual(len(statements), 2)
        rest = PersonRow.follows(self.owner.pk, "followers", first[-1].follow_id, 4)
        self.assertEqual([row.username for row in rest], ["fan2", "fan1"])
        # closed as the follows were read (the flags not yet copied): read on past them
        Follow.objects.update(follower_is_active=True)
        first = PersonRow.follows(self.owner.pk, "followers", None, 4)
        self.assertEqual([row.username for row in first], ["fan8", "fan7", "fan5", "fan4"])

    def test_the_follows_are_read_on_their_own_index_not_joined_to_every_member(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from extagram.social.people_items import PersonRow

        Follow.follow(self.stranger, self.owner)
        with CaptureQueriesContext(connection) as statements:
            PersonRow.follows(self.owner.pk, "followers", None, 51)
        follows = [s["sql"] for s in statements if "social_follow" in s["sql"]]
        self.assertEqual(len(follows), 1, follows)
        self.assertNotIn("JOIN", follows[0].upper())
        self.assertIn("LIMIT 51", follows[0].upper())

    def test_a_page_past_the_last_person_says_so(self):
        Follow.follow(self.stranger, self.owner)
        cursor = Follow.objects.get(follower=self.stranger).pk
        for which in ("followers", "following"):
            past = self.client.get(f"/u/alice/{which}/?before={cursor}")
            self.assertContains(past, "No more people.", msg_prefix=which)
            self.assertNotContains(past, "Nobody yet.", msg_prefix=which)


class StaleFollowFormTests(BaseTestCase):
    def test_a_follow_form_sent_signed_out_lands_on_the_profile_after_signing_in(self):
        # the log-in page sends the member back to `next` with a GET
        response = self.client.post("/u/alice/follow/")
        self.assertIn("next=/u/alice/follow/", response["Location"])
        self.client.login(username="bob", password=PASSWORD)
        for action in ("follow", "unfollow"):
            response = self.client.get(f"/u/alice/{action}/")
            self.assertEqual((response.status_code, response["Location"]), (302, "/u/alice/"))
        self.assertEqual(Follow.objects.count(), 0)
