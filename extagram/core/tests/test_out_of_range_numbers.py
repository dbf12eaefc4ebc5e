from django.contrib.auth.models import Group

from extagram.testing.base import PASSWORD, BaseTestCase

HUGE = "99999999999999999999"  # beyond 64 bits


class OutOfRangeNumberTests(BaseTestCase):
    def test_an_id_beyond_64_bits_in_a_form_is_a_400_and_changes_nothing(self):
        self.client.login(username="sam", password=PASSWORD)
        response = self.client.post(
            "/admin/auth/group/add/", {"name": "moderators", "permissions": [HUGE]}
        )
        self.assertIn(response.status_code, (200, 400))  # the form refuses it, or the 400 page
        self.assertFalse(Group.objects.exists())

    def test_ids_beyond_64_bits_in_a_path_are_not_found(self):
        self.client.login(username="alice", password=PASSWORD)
        for path in (f"/p/{HUGE}/", f"/p/{HUGE}/edit/", f"/c/{HUGE}/delete/"):
            with self.subTest(path=path):
                self.assertEqual(self.client.post(path).status_code, 404)

    def test_a_search_term_too_long_for_the_database_is_not_a_500(self):
        # SQLite refuses LIKE patterns over 50,000 bytes; the admin's search builds one.
        self.client.login(username="sam", password=PASSWORD)
        for path in ("/admin/auth/user/", "/admin/posts/post/", "/admin/social/tag/"):
            with self.subTest(path=path):
                response = self.client.get(path, {"q": "x" * 100_000})
                self.assertIn(response.status_code, (200, 400))
