from extagram.accounts.models import Profile
from extagram.testing.base import PASSWORD, BaseTestCase


class EditProfileTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)

    def test_a_member_edits_their_display_name_and_bio(self):
        response = self.client.post(
            "/accounts/profile/", {"display_name": "Alice A.", "bio": "Photos of #sea"}
        )
        self.assertRedirects(response, "/u/alice/", fetch_redirect_response=False)
        profile = Profile.objects.get(user=self.owner)
        self.assertEqual((profile.display_name, profile.bio), ("Alice A.", "Photos of #sea"))

    def test_the_bio_links_urls_with_nofollow_and_escapes_the_rest(self):
        Profile.objects.filter(user=self.owner).update(
            bio="<b>me</b> https://alice.example/ and @bob"
        )
        page = self.client.get("/u/alice/")
        self.assertContains(
            page,
            '<a href="https://alice.example/" rel="nofollow ugc noopener">'
            "https://alice.example/</a>",
        )
        self.assertContains(page, "&lt;b&gt;me&lt;/b&gt;")
        self.assertContains(page, '<a class="mention" href="/u/bob/">@bob</a>')

    def test_the_profile_links_its_owner_to_the_edit_page_only(self):
        self.assertContains(self.client.get("/u/alice/"), 'href="/accounts/profile/"')
        self.assertNotContains(self.client.get("/u/bob/"), 'href="/accounts/profile/"')

    def test_the_edit_page_only_ever_edits_your_own_profile(self):
        self.client.post("/accounts/profile/", {"display_name": "X", "bio": "", "user": "2"})
        self.assertEqual(Profile.objects.get(user=self.stranger).display_name, "")

    def test_it_needs_sign_in(self):
        self.client.logout()
        response = self.client.get("/accounts/profile/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_a_bio_too_long_or_a_bad_name_is_a_400_and_changes_nothing(self):
        response = self.client.post("/accounts/profile/", {"display_name": "ok", "bio": "x" * 301})
        self.assertEqual(response.status_code, 400)
        response = self.client.post("/accounts/profile/", {"display_name": "a\u202eb", "bio": ""})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Profile.objects.get(user=self.owner).display_name, "")

    def test_a_new_display_name_is_found_by_search(self):
        self.client.post("/accounts/profile/", {"display_name": "Zoë Quinn", "bio": ""})
        response = self.client.get("/search/", {"q": "zoë"})
        self.assertEqual([u.username for u in response.context["people"]], ["alice"])
