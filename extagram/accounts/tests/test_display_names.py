"""Display names: any script, shown beside the handle, edited in settings."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.accounts.models import Profile
from extagram.posts.models import Comment
from extagram.testing.base import PASSWORD, BaseTestCase


class DisplayNameTests(BaseTestCase):
    def set_name(self, name):
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        return self.client.post("/accounts/settings/", {"display_name": name})

    def test_a_member_sets_a_name_in_their_own_script(self):
        for name in ("Алиса Петрова", "山田 花子", "أليس", "Émilie 🌻", "Ana\u200dMaria"):
            response = self.set_name(name)
            self.assertRedirects(response, "/accounts/settings/", msg_prefix=name)
            self.assertEqual(Profile.objects.get(user=self.owner).display_name, name)

    def test_spaces_are_tidied(self):
        self.set_name("  Alícia   Puig ")
        self.assertEqual(Profile.objects.get(user=self.owner).display_name, "Alícia Puig")

    def test_invisible_and_direction_changing_characters_are_refused(self):
        for name, code in (
            ("ali\u202ece", "U+202E"),
            ("al\u0007ice", "U+0007"),
            ("a\u2066b", "U+2066"),
            ("x\u200by", "U+200B"),
        ):
            response = self.set_name(name)
            said = f"Remove the invisible control character ({code}) from the name."
            self.assertContains(response, said, status_code=400, msg_prefix=repr(name))
        self.assertEqual(Profile.objects.get(user=self.owner).display_name, "")

    def test_names_longer_than_fifty_characters_are_refused(self):
        self.assertEqual(self.set_name("x" * 51).status_code, 400)
        self.assertRedirects(self.set_name("x" * 50), "/accounts/settings/")

    def test_the_name_is_shown_beside_the_handle_everywhere_and_escaped(self):
        Profile.objects.filter(user=self.owner).update(display_name="Alícia <i>Puig</i>")
        post = self.make_post(caption="hola")
        Comment.objects.create(post=post, author=self.owner, body="first!")
        escaped = '<bdi class="display-name">Alícia &lt;i&gt;Puig&lt;/i&gt;</bdi>'
        self.assertContains(self.client.get("/"), escaped)
        detail = self.client.get(post.get_absolute_url())
        self.assertContains(detail, escaped, count=2)  # the card and the comment
        self.assertContains(detail, '<span class="handle">@alice</span>', count=2)
        profile = self.client.get("/u/alice/")
        self.assertContains(profile, "<h1><bdi>Alícia &lt;i&gt;Puig&lt;/i&gt;</bdi></h1>")
        self.assertContains(profile, '<p class="handle">@alice</p>')
        self.assertNotContains(profile, "<i>Puig</i>")

    def test_without_a_display_name_the_handle_stands_alone(self):
        self.make_post()
        self.assertContains(self.client.get("/"), '<span class="handle">alice</span>')

    def test_sign_up_can_set_it(self):
        self.client.post(
            "/accounts/signup/",
            {
                "username": "yuki",
                "display_name": "山田 由紀",
                "email": "yuki@example.com",
                "password1": "a-long-and-unusual-pass",
                "password2": "a-long-and-unusual-pass",
            },
        )
        self.assertEqual(Profile.objects.get(handle="yuki").display_name, "山田 由紀")

    def test_the_feed_reads_names_without_a_query_per_post(self):
        for user in (self.owner, self.stranger, self.staff):
            Profile.objects.filter(user=user).update(display_name=f"Name of {user}")
            self.make_post(author=user)
        with CaptureQueriesContext(connection) as three:
            self.client.get("/")
        for user in (self.owner, self.stranger, self.staff):
            self.make_post(author=user)
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as six:
            self.client.get("/")
        self.assertEqual(len(six), len(three))

    def test_a_profile_link_in_another_case_goes_to_the_canonical_one(self):
        response = self.client.get("/u/ALICE/")
        self.assertRedirects(response, "/u/alice/", status_code=301)
        # a page link's cursor goes along
        response = self.client.get("/u/ALICE/?before=5")
        self.assertEqual(response["Location"], "/u/alice/?before=5")

    def test_a_new_name_shows_on_cached_cards_at_once(self):
        self.make_post()
        self.assertContains(self.client.get("/"), '<span class="handle">alice</span>')
        self.set_name("Alícia")
        self.assertContains(self.client.get("/"), '<bdi class="display-name">Alícia</bdi>')
        self.client.post("/accounts/username/", {"username": "alicia"})
        self.assertContains(self.client.get("/"), 'href="/u/alicia/"')
