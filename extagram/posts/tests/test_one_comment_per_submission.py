"""One comment per submission: a double click, a browser's retry or two copies of the same
request at once add one comment (and one notification), and every answer leads to it."""

import functools
import re

from django.contrib.auth import get_user_model
from django.test import Client, TransactionTestCase

from extagram.posts.models import Comment, Post
from extagram.social.models import Notification
from extagram.testing.base import PASSWORD, BaseTestCase, make_post
from extagram.testing.threads import run_together

TOKEN = re.compile(r'<input type="hidden" name="token" value="([^"]+)"')


def form_token(response):
    return TOKEN.search(response.content.decode()).group(1)


class OneCommentPerSubmissionTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post()
        self.client.login(username="bob", password=PASSWORD)
        self.token = form_token(self.client.get(f"/p/{self.post.pk}/"))

    def comment(self, body, token=None):
        data = {"body": body, "token": self.token if token is None else token}
        return self.client.post(f"/p/{self.post.pk}/comments/", data)

    def test_the_post_page_carries_a_new_token_each_time_it_is_shown(self):
        # the empty comment form is rendered once per process (a fragment); its token not
        again = form_token(self.client.get(f"/p/{self.post.pk}/"))
        self.assertNotEqual(self.token, again)
        self.assertGreaterEqual(len(self.token), 20)

    def test_the_same_comment_sent_twice_is_added_once_and_both_answers_lead_to_the_post(self):
        answers = [self.comment("Lovely"), self.comment("Lovely")]
        for answer in answers:
            self.assertRedirects(
                answer, f"/p/{self.post.pk}/#comments", fetch_redirect_response=False
            )
        self.assertEqual(Comment.objects.count(), 1)
        self.post.refresh_from_db()
        self.assertEqual(self.post.comment_count, 1)
        self.assertEqual(Notification.objects.filter(kind="comment").count(), 1)

    def test_another_comment_sent_from_the_same_page_is_added(self):
        # e.g. the page restored from the browser's history after a first comment
        self.comment("one")
        self.comment("two")
        self.assertEqual(list(Comment.objects.values_list("body", flat=True)), ["one", "two"])

    def test_without_a_token_each_comment_is_added(self):
        self.comment("hi", token="")
        self.comment("hi", token="")
        self.assertEqual(Comment.objects.count(), 2)

    def test_the_same_token_from_another_member_adds_their_own_comment(self):
        self.comment("Same words")
        self.client.login(username="alice", password=PASSWORD)
        self.comment("Same words")
        self.assertEqual(
            sorted(Comment.objects.values_list("author__username", flat=True)), ["alice", "bob"]
        )

    def test_a_refused_comment_keeps_its_token_for_the_corrected_one(self):
        refused = self.comment("\u0007")
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(form_token(refused), self.token)
        self.comment("Corrected")
        self.comment("Corrected")
        self.assertEqual(list(Comment.objects.values_list("body", flat=True)), ["Corrected"])

    def test_a_token_longer_than_a_token_is_not_put_back_whole(self):
        refused = self.comment("", token="x" * 5000)
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(form_token(refused), "x" * 64)

    def test_a_repeat_arriving_after_its_comment_was_deleted_adds_it_again(self):
        self.comment("Again")
        first = Comment.objects.get()
        self.client.post(f"/c/{first.pk}/delete/")
        self.comment("Again")
        self.assertNotEqual(Comment.objects.get().pk, first.pk)


class ConcurrentCommentTests(TransactionTestCase):
    def test_the_same_comment_sent_twice_at_once_is_added_once(self):
        users = get_user_model().objects
        post = make_post(users.create_user("dani"))
        member = users.create_user("carla")
        for _round in range(5):
            Comment.objects.all().delete()
            clients = [Client(), Client()]
            for client in clients:
                client.force_login(member)
            data = {"body": "At once", "token": form_token(clients[0].get(f"/p/{post.pk}/"))}
            answers = []

            def send(client, data=data, answers=answers):
                answers.append(client.post(f"/p/{post.pk}/comments/", data))

            run_together(*(functools.partial(send, client) for client in clients))
            self.assertEqual([a.status_code for a in answers], [302, 302])
            self.assertEqual(Comment.objects.count(), 1)
            self.assertEqual(Post.objects.get(pk=post.pk).comment_count, 1)
