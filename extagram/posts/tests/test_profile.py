import datetime as dt

from django.test import override_settings

from extagram.posts.models import Like
from extagram.testing.base import BaseTestCase


class ProfileTests(BaseTestCase):
    def test_it_shows_the_users_grid_and_counts(self):
        mine = [self.make_post() for _ in range(2)]
        self.make_post(author=self.stranger, caption="not alice's")
        Like.objects.create(post=mine[0], user=self.stranger)
        Like.objects.create(post=mine[1], user=self.staff)
        response = self.client.get("/u/alice/")
        self.assertContains(response, "<strong>2</strong> posts", html=False)
        self.assertContains(response, "<strong>2</strong> likes received", html=False)
        self.assertEqual({p.pk for p in response.context["posts"]}, {p.pk for p in mine})
        for post in mine:
            self.assertContains(response, post.small_url)

    @override_settings(FEED_PAGE_SIZE=2)
    def test_the_grid_pages_like_the_feed(self):
        posts = [self.make_post() for _ in range(3)]
        response = self.client.get("/u/alice/")
        self.assertContains(response, f"?before={posts[1].pk}")

    def test_an_unknown_user_is_404(self):
        self.assertEqual(self.client.get("/u/nobody/").status_code, 404)

    def test_a_handle_nobody_has_gets_a_404_that_says_so(self):
        for path in ("/u/nobody_xyz/", "/u/nobody_xyz/followers/", "/u/nobody_xyz/following/"):
            response = self.client.get(path)
            self.assertContains(response, "No one goes by @nobody_xyz", status_code=404)

    def test_a_deactivated_members_page_says_nobody_goes_by_the_handle(self):
        self.stranger.is_active = False
        self.stranger.save()
        self.assertContains(self.client.get("/u/bob/"), "No one goes by @bob", status_code=404)

    def test_a_mention_of_a_handle_nobody_has_leads_to_that_404(self):
        self.make_post(caption="with @nobody_xyz")
        self.assertContains(self.client.get("/"), 'href="/u/nobody_xyz/"')

    def test_a_malformed_handle_gets_the_plain_404(self):
        response = self.client.get("/u/<b>x</b>/")
        self.assertContains(response, "Page not found", status_code=404)
        self.assertNotContains(response, "No one goes by", status_code=404)

    def test_a_user_without_posts_has_an_empty_profile(self):
        self.assertContains(self.client.get("/u/bob/"), "No posts yet")

    def test_the_join_date_reads_as_each_language_writes_a_month_and_year(self):
        self.owner.date_joined = dt.datetime(2026, 11, 5, tzinfo=dt.UTC)
        self.owner.save()
        for language, text in [
            ("en", "Joined November 2026"),
            ("es", "Se unió en noviembre de 2026"),
            ("ca", "alta: novembre del 2026"),
        ]:
            page = self.client.get("/u/alice/", headers={"Accept-Language": language})
            self.assertContains(page, text)
