from unittest import mock

from extagram.posts.forms import PostEditForm
from extagram.posts.models import Like
from extagram.testing.base import PASSWORD, BaseTestCase


class PostEditTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post(caption="before")

    def test_the_owner_edits_caption_and_alt_text(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(
            f"/p/{self.post.pk}/edit/", {"caption": "after", "alt_text": "A dog"}
        )
        self.assertRedirects(response, f"/p/{self.post.pk}/")
        self.post.refresh_from_db()
        self.assertEqual((self.post.caption, self.post.alt_text), ("after", "A dog"))

    def test_an_edit_keeps_a_like_given_while_it_was_made(self):
        validate = PostEditForm.is_valid

        def like_then_validate(form):
            Like.toggle(self.post, self.stranger)  # commits between the edit's read and write
            return validate(form)

        self.client.login(username="alice", password=PASSWORD)
        with mock.patch.object(PostEditForm, "is_valid", like_then_validate):
            self.client.post(f"/p/{self.post.pk}/edit/", {"caption": "after", "alt_text": ""})
        self.post.refresh_from_db()
        self.assertEqual((self.post.caption, self.post.like_count), ("after", 1))

    def test_a_stranger_cannot_see_the_edit_form_or_edit(self):
        self.client.login(username="bob", password=PASSWORD)
        self.assertEqual(self.client.get(f"/p/{self.post.pk}/edit/").status_code, 403)
        response = self.client.post(f"/p/{self.post.pk}/edit/", {"caption": "hacked"})
        self.assertEqual(response.status_code, 403)
        self.post.refresh_from_db()
        self.assertEqual(self.post.caption, "before")

    def test_a_too_long_caption_is_refused_and_changes_nothing(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(f"/p/{self.post.pk}/edit/", {"caption": "x" * 2201})
        self.assertEqual(response.status_code, 400)
        self.post.refresh_from_db()
        self.assertEqual(self.post.caption, "before")

    def test_only_the_owner_sees_edit_and_delete_links(self):
        page = f"/p/{self.post.pk}/"
        self.assertNotContains(self.client.get(page), "/edit/")
        self.client.login(username="bob", password=PASSWORD)
        self.assertNotContains(self.client.get(page), "/edit/")
        self.client.login(username="alice", password=PASSWORD)
        self.assertContains(self.client.get(page), "/edit/")

    def test_an_edited_caption_shows_at_once_on_pages_that_were_cached(self):
        self.assertContains(self.client.get("/"), "before")
        self.client.login(username="alice", password=PASSWORD)
        self.client.post(f"/p/{self.post.pk}/edit/", {"caption": "after the edit"})
        self.client.logout()
        self.assertContains(self.client.get("/"), "after the edit")
        self.assertContains(self.client.get(f"/p/{self.post.pk}/"), "after the edit")
