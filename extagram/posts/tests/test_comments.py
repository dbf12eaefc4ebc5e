from extagram.posts.models import Comment
from extagram.testing.base import PASSWORD, BaseTestCase


class CommentTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()

    def login(self, username):
        self.client.login(username=username, password=PASSWORD)

    def test_a_member_adds_a_comment_that_shows_on_the_post(self):
        self.login("bob")
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": "Lovely <b>shot</b>"})
        self.assertRedirects(
            response, f"/p/{self.post.pk}/#comments", fetch_redirect_response=False
        )
        page = self.client.get(f"/p/{self.post.pk}/")
        self.assertContains(page, "Lovely &lt;b&gt;shot&lt;/b&gt;")
        self.post.refresh_from_db()
        self.assertEqual(self.post.comment_count, 1)

    def test_an_empty_or_too_long_comment_is_refused(self):
        self.login("bob")
        for body in ("", "x" * 1001):
            response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": body})
            self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_anonymous_visitors_cannot_comment(self):
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": "hi"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Comment.objects.exists())

    def test_the_author_of_a_comment_deletes_it(self):
        comment = Comment.objects.create(post=self.post, author=self.stranger, body="oops")
        self.login("bob")
        self.client.post(f"/c/{comment.pk}/delete/")
        self.assertFalse(Comment.objects.exists())
        self.post.refresh_from_db()
        self.assertEqual(self.post.comment_count, 0)

    def test_the_author_of_the_post_deletes_any_comment_on_it(self):
        comment = Comment.objects.create(post=self.post, author=self.stranger, body="spam")
        self.login("alice")
        self.client.post(f"/c/{comment.pk}/delete/")
        self.assertFalse(Comment.objects.exists())

    def test_a_stranger_cannot_delete_someone_elses_comment(self):
        comment = Comment.objects.create(post=self.post, author=self.owner, body="mine")
        self.login("bob")
        response = self.client.post(f"/c/{comment.pk}/delete/")
        self.assertEqual(response.status_code, 403)
        self.assertTrue(Comment.objects.filter(pk=comment.pk).exists())

    def test_the_delete_button_shows_only_to_those_who_may_use_it(self):
        Comment.objects.create(post=self.post, author=self.staff, body="nice")
        self.login("bob")
        self.assertNotContains(self.client.get(f"/p/{self.post.pk}/"), "/delete/")
        self.login("alice")
        self.assertContains(self.client.get(f"/p/{self.post.pk}/"), "/c/")

    def test_a_new_comment_updates_the_count_on_cached_feed_cards(self):
        self.assertContains(self.client.get("/explore/"), "0 comments")
        self.login("bob")
        self.client.post(f"/p/{self.post.pk}/comments/", {"body": "first"})
        self.assertContains(self.client.get("/explore/"), "1 comment")


class OlderCommentsTests(BaseTestCase):
    def setUp(self):
        from extagram.posts.comments import COMMENTS_SHOWN

        self.post = self.make_post()
        self.shown = COMMENTS_SHOWN
        Comment.objects.bulk_create(
            Comment(post=self.post, author=self.stranger, body=f"number {n}.")
            for n in range(2 * COMMENTS_SHOWN + 5)
        )
        self.ids = list(Comment.objects.order_by("id").values_list("id", flat=True))

    def numbers(self, response):
        import re

        return [int(n) for n in re.findall(r"number (\d+)\.", response.content.decode())]

    def test_every_comment_can_be_reached_from_the_post_page(self):
        path, seen, pages = f"/p/{self.post.pk}/", [], 0
        while path:
            page = self.client.get(path)
            self.assertEqual(page.status_code, 200)
            seen = self.numbers(page) + seen
            older = page.context["older_comments"]
            path = f"/p/{self.post.pk}/?before={older}" if older else None
            pages += 1
        self.assertEqual(seen, list(range(2 * self.shown + 5)))  # each once, oldest first
        self.assertEqual(pages, 3)

    def test_the_pages_link_to_the_older_and_back_to_the_newest(self):
        first = self.client.get(f"/p/{self.post.pk}/")
        oldest_shown = self.ids[-self.shown]
        self.assertContains(first, f'href="/p/{self.post.pk}/?before={oldest_shown}#comments"')
        self.assertNotContains(first, "Newest comments")
        older = self.client.get(f"/p/{self.post.pk}/?before={oldest_shown}")
        self.assertContains(older, f'href="/p/{self.post.pk}/#comments"')
        self.assertContains(older, "Newest comments")
        self.assertEqual(self.numbers(older)[-1], self.shown + 4)

    def test_past_the_oldest_comment_it_says_so_and_a_bad_link_is_a_400(self):
        past = self.client.get(f"/p/{self.post.pk}/?before={self.ids[0]}")
        self.assertContains(past, "No older comments.")
        self.assertNotContains(past, "No comments yet.")
        for bad in ("x", "-1", "\u0663"):
            response = self.client.get(f"/p/{self.post.pk}/", {"before": bad})
            self.assertEqual(response.status_code, 400, bad)

    def test_a_comment_deleted_from_an_older_page_comes_back_to_that_page(self):
        self.client.login(username="alice", password=PASSWORD)  # the post's author
        cursor = self.ids[-self.shown]
        older = self.client.get(f"/p/{self.post.pk}/?before={cursor}")
        gone = self.ids[self.shown]  # number `shown`, on that page
        action = f"/c/{gone}/delete/?before={cursor}"
        self.assertContains(older, f'action="{action}"')
        response = self.client.post(action)
        self.assertRedirects(
            response, f"/p/{self.post.pk}/?before={cursor}#comments", fetch_redirect_response=False
        )
        self.assertFalse(Comment.objects.filter(pk=gone).exists())
        # the newest page's buttons carry no cursor; a bad one is a 400 and deletes nothing
        self.assertContains(
            self.client.get(f"/p/{self.post.pk}/"), f'action="/c/{self.ids[-1]}/delete/"'
        )
        bad = self.client.post(f"/c/{self.ids[-1]}/delete/?before=x")
        self.assertEqual(bad.status_code, 400)
        self.assertTrue(Comment.objects.filter(pk=self.ids[-1]).exists())
