from extagram.posts.models import Like
from extagram.testing.base import PASSWORD, BaseTestCase


class LikeTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        self.client.login(username="bob", password=PASSWORD)

    def like(self, **extra):
        return self.client.post(f"/p/{self.post.pk}/like/", {"next": "/"}, **extra)

    def test_liking_twice_toggles_the_like_off(self):
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
