from extagram.posts.models import Like
from extagram.testing.base import PASSWORD, BaseTestCase


class LikeTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        self.client.login(username="bob", password=PASSWORD)

    def like(self, data=None, **extra):
        sent = {"next": "/", **(data or {})}
        return self.client.post(f"/p/{self.post.pk}/like/", sent, **extra)

    def test_the_form_asks_for_a_like_or_an_unlike(self):
        page = f"/p/{self.post.pk}/"
        self.assertContains(self.client.get(page), 'name="like" value="1"')
        self.like(data={"like": "1"})
        self.assertContains(self.client.get(page), 'name="like" value="0"')

    def test_a_like_sent_twice_likes_once(self):
        # a double click, a browser's retry, or a "Like" button on a page left open
        for _ in range(2):
            self.assertRedirects(self.like(data={"like": "1"}), "/")
        self.post.refresh_from_db()
        self.assertEqual(self.post.like_count, 1)
        self.assertEqual(Like.objects.count(), 1)

    def test_an_unlike_sent_twice_unlikes_once(self):
        self.like(data={"like": "1"})
        for _ in range(2):
            self.assertRedirects(self.like(data={"like": "0"}), "/")
        self.post.refresh_from_db()
        self.assertEqual(self.post.like_count, 0)
        self.assertFalse(Like.objects.exists())

    def test_a_like_value_other_than_0_or_1_is_a_400_and_changes_nothing(self):
        for value in ("2", "yes", ""):
            response = self.like(data={"like": value})
            self.assertContains(response, "This like button is not valid", status_code=400)
        self.post.refresh_from_db()
        self.assertEqual(self.post.like_count, 0)
        self.assertFalse(Like.objects.exists())

    def test_without_the_forms_field_liking_twice_toggles_the_like_off(self):
        self.assertRedirects(self.like(), "/")
        self.post.refresh_from_db()
        self.assertEqual(self.post.like_count, 1)
        self.like()
        self.post.refresh_from_db()
        self.assertEqual(self.post.like_count, 0)
        self.assertFalse(Like.objects.exists())

    def test_the_count_adds_up_likes_from_several_users(self):
        self.like()
        self.client.login(username="sam", password=PASSWORD)
        self.like()
        self.post.refresh_from_db()
        self.assertEqual(self.post.like_count, 2)
        self.assertContains(self.client.get(f"/p/{self.post.pk}/"), "2 likes")

    def test_it_answers_json_for_scripts(self):
        response = self.like(HTTP_ACCEPT="application/json")
        data = response.json()
        self.assertEqual((data["liked"], data["like_count"]), (True, 1))
        self.assertIn('aria-pressed="true"', data["html"])

    def test_anonymous_visitors_are_sent_to_log_in(self):
        self.client.logout()
        response = self.like()
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
        self.assertFalse(Like.objects.exists())

    def test_a_get_does_not_like(self):
        response = self.client.get(f"/p/{self.post.pk}/like/")
        self.assertEqual((response.status_code, response["Location"]), (302, f"/p/{self.post.pk}/"))
        self.assertFalse(Like.objects.exists())

    def test_liking_a_missing_post_is_404(self):
        self.assertEqual(self.client.post("/p/999999/like/").status_code, 404)

    def test_an_outside_next_url_is_not_followed(self):
        response = self.client.post(f"/p/{self.post.pk}/like/", {"next": "https://evil.example/"})
        self.assertRedirects(response, f"/p/{self.post.pk}/", fetch_redirect_response=False)


class LikeFormNextTests(BaseTestCase):
    """A like form's `next` is the page the member is looking at, so that the form sent
    without the page's script (the script falls back to a plain submit) brings them back."""

    def setUp(self):
        self.posts = [self.make_post() for _ in range(14)]
        self.client.login(username="alice", password=PASSWORD)

    def test_the_form_a_liked_post_gets_back_keeps_the_page_it_came_from(self):
        post = self.posts[0]
        response = self.client.post(
            f"/p/{post.pk}/like/",
            {"next": f"/explore/?before=9#post-{post.pk}"},
            HTTP_ACCEPT="application/json",
        )
        html = response.json()["html"]
        self.assertIn(f'name="next" value="/explore/?before=9#post-{post.pk}"', html)

    def test_without_a_next_the_fresh_form_goes_back_to_the_post(self):
        post = self.posts[0]
        for sent in ({}, {"next": "https://evil.example/"}):
            html = self.client.post(f"/p/{post.pk}/like/", sent, HTTP_ACCEPT="application/json")
            self.assertIn(f'value="/p/{post.pk}/#post-{post.pk}"', html.json()["html"])

    def test_cards_loaded_by_the_infinite_scroll_name_their_page_without_fragment(self):
        before = self.posts[-1].pk
        page = self.client.get(f"/explore/?before={before}&fragment=1")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, f'value="/explore/?before={before}#post-')
        self.assertNotContains(page, "fragment=1#")

    def test_a_whole_page_names_itself(self):
        before = self.posts[-1].pk
        self.assertContains(
            self.client.get(f"/?before={before}"), f'value="/?before={before}#post-'
        )
