"""One post per submission: a double click, a browser retry or two copies of the same
request at once make one post, and every answer leads to it."""

import re
import threading
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client, TransactionTestCase

from extagram.posts.models import Post
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import jpeg_bytes
from extagram.uploads import images

TOKEN = re.compile(r'<input type="hidden" name="token" value="([^"]+)"')


def form_token(response):
    return TOKEN.search(response.content.decode()).group(1)


class OnePostPerSubmissionTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)
        self.token = form_token(self.client.get("/upload/"))

    def submit(self, data, **fields):
        fields.setdefault("token", self.token)
        return self.upload(data, **fields)

    def test_the_form_carries_a_new_token_each_time_it_is_shown(self):
        self.assertNotEqual(self.token, form_token(self.client.get("/upload/")))
        self.assertGreaterEqual(len(self.token), 20)

    def test_the_same_submission_sent_twice_makes_one_post_and_both_answers_lead_to_it(self):
        data = jpeg_bytes()
        first = self.submit(data, caption="Once")
        second = self.submit(data, caption="Once")
        post = Post.objects.get()
        self.assertRedirects(first, f"/p/{post.pk}/")
        self.assertRedirects(second, f"/p/{post.pk}/")

    def test_a_repeat_is_answered_without_processing_the_photo_again(self):
        data = jpeg_bytes()
        self.submit(data)
        with mock.patch.object(images, "process_photo", wraps=images.process_photo) as processing:
            self.submit(data)
        processing.assert_not_called()
        self.assertEqual(Post.objects.count(), 1)

    def test_another_photo_or_caption_sent_from_the_same_page_makes_a_new_post(self):
        # e.g. the page restored from the browser's history after a first post
        self.submit(jpeg_bytes(color=(1, 2, 3)), caption="one")
        self.submit(jpeg_bytes(color=(200, 2, 3)), caption="one")
        self.submit(jpeg_bytes(color=(200, 2, 3)), caption="two")
        self.assertEqual(Post.objects.count(), 3)

    def test_without_a_token_each_submission_makes_a_post(self):
        data = jpeg_bytes()
        self.upload(data)
        self.upload(data)
        self.assertEqual(Post.objects.count(), 2)

    def test_the_same_token_from_another_member_makes_their_own_post(self):
        data = jpeg_bytes()
        self.submit(data)
        self.client.login(username="bob", password=PASSWORD)
        self.submit(data)
        self.assertEqual(
            sorted(Post.objects.values_list("author__username", flat=True)), ["alice", "bob"]
        )

    def test_a_refused_submission_can_be_corrected_and_sent_again_with_its_token(self):
        data = jpeg_bytes()
        refused = self.submit(data, caption="x" * 2201)
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(form_token(refused), self.token)
        self.submit(data, caption="Shorter")
        self.assertEqual(Post.objects.get().caption, "Shorter")

    def test_a_repeat_arriving_after_its_post_was_deleted_makes_the_post_again(self):
        data = jpeg_bytes()
        self.submit(data)
        first = Post.objects.get()
        self.client.post(f"/p/{first.pk}/delete/")
        response = self.submit(data)
        again = Post.objects.get()
        self.assertNotEqual(again.pk, first.pk)
        self.assertRedirects(response, f"/p/{again.pk}/")


class ConcurrentSubmissionTests(TransactionTestCase):
    def test_the_same_submission_sent_twice_at_once_makes_one_post(self):
        user = get_user_model().objects.create_user("carla")
        data = jpeg_bytes(1600, 1200)
        for _round in range(5):
            Post.objects.all().delete()
            clients = [Client(), Client()]
            for client in clients:
                client.force_login(user)
            token = form_token(clients[0].get("/upload/"))
            answers = []
            start = threading.Barrier(2)

            def send(client, token=token, answers=answers, start=start):
                photo = SimpleUploadedFile("p.jpg", data, content_type="image/jpeg")
                try:
                    start.wait()
                    answers.append(
                        client.post("/upload/", {"photo": photo, "caption": "x", "token": token})
                    )
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=send, args=(client,)) for client in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            post = Post.objects.get()
            self.assertEqual([a.status_code for a in answers], [302, 302])
            self.assertEqual({a["Location"] for a in answers}, {f"/p/{post.pk}/"})
