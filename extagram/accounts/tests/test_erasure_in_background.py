"""Deleting one's account answers at once, however much it holds: the account is closed
and signed out before the answer, its rows are deleted after it on a thread of their own
(~74 s for 10,000 posts had the proxy answer 503 for a deletion that then happened), and
the periodic sweep finishes a deletion whose thread died with its process."""

import functools
import threading
from datetime import timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.http import HttpResponse
from django.test import Client, RequestFactory, TransactionTestCase, override_settings
from django.utils import timezone

from extagram.accounts import erasure
from extagram.accounts.models import PendingErasure
from extagram.posts.middleware import MediaSweepMiddleware
from extagram.posts.models import Like, Post, StoredFile
from extagram.testing.base import PASSWORD, BaseTestCase, make_post, post_in_a_tab, signed_in
from extagram.testing.images import jpeg_bytes
from extagram.testing.threads import run_together

User = get_user_model()


class ClosedBeforeTheAnswerTests(BaseTestCase):
    def test_the_account_is_closed_before_the_answer_and_its_rows_go_after_it(self):
        mine = self.make_post(caption="mine #sun")
        theirs = self.make_post(author=self.stranger)
        Like.toggle(theirs, self.owner)
        other_browser = Client()
        other_browser.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        self.client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})

        with self.captureOnCommitCallbacks() as after_the_answer:
            response = self.client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)
        self.assertRedirects(response, "/")
        self.assertContains(response, "are being erased")
        # before its rows go: nothing of it shown or counted, nobody signed in as it
        self.assertFalse(User.objects.get(pk=self.owner.pk).is_active)
        self.assertTrue(PendingErasure.objects.filter(user_id=self.owner.pk).exists())
        self.assertEqual(self.client.get("/u/alice/").status_code, 404)
        self.assertEqual(self.client.get(f"/p/{mine.pk}/").status_code, 404)
        self.assertNotContains(self.client.get("/tags/sun/"), f"/p/{mine.pk}/")
        theirs.refresh_from_db()
        self.assertEqual(theirs.like_count, 0)
        self.assertContains(other_browser.get("/"), "Log in")
        self.assertFalse(Client().login(username="alice", password=PASSWORD))

        for callback in after_the_answer:
            callback()
        self.assertFalse(User.objects.filter(pk=self.owner.pk).exists())
        self.assertFalse(PendingErasure.objects.exists())
        theirs.refresh_from_db()
        self.assertEqual(theirs.like_count, 0)

    def test_erase_pending_deletes_only_what_it_is_asked_to(self):
        with self.captureOnCommitCallbacks():  # as if their threads had died
            erasure.close_account(self.owner)
            erasure.close_account(self.stranger)
        PendingErasure.objects.filter(user_id=self.owner.pk).update(
            requested_at=timezone.now() - timedelta(hours=2)
        )
        an_hour_ago = timezone.now() - timedelta(hours=1)
        self.assertEqual(erasure.erase_pending(requested_before=an_hour_ago), 1)
        self.assertFalse(User.objects.filter(pk=self.owner.pk).exists())
        self.assertTrue(User.objects.filter(pk=self.stranger.pk).exists())
        self.assertEqual(erasure.erase_pending(user_pk=self.staff.pk), 0)  # not pending
        self.assertEqual(erasure.erase_pending(user_pk=self.stranger.pk), 1)
        self.assertEqual(list(User.objects.values_list("username", flat=True)), ["sam"])


class ErasureThreadTests(TransactionTestCase):
    def setUp(self):
        cache.clear()
        self.member = User.objects.create_user("dora", password=PASSWORD)
        self.post = make_post(self.member)

    @override_settings(ERASURE_IN_BACKGROUND=True)
    def test_the_rows_are_deleted_on_a_thread_of_their_own_after_the_answer(self):
        # the thread waits in its transaction until the answer is out: on SQLite it holds
        # the one write lock then, so a write of the request's after it would fail
        answered, real_delete = threading.Event(), erasure.delete_account

        def delete_after_the_answer(user):
            self.assertTrue(answered.wait(timeout=60))
            real_delete(user)

        client = Client()
        client.post("/accounts/login/", {"login": "dora", "password": PASSWORD})
        with mock.patch.object(erasure, "delete_account", delete_after_the_answer):
            response = client.post("/accounts/delete/", {"password": PASSWORD})
            self.assertEqual(response.status_code, 302)
            self.assertTrue(User.objects.filter(pk=self.member.pk).exists())
            answered.set()
            for thread in threading.enumerate():
                if thread.name == "account-erasure":
                    thread.join(timeout=60)
        self.assertFalse(User.objects.filter(pk=self.member.pk).exists())
        self.assertFalse(PendingErasure.objects.exists())

    @override_settings(MEDIA_SWEEP_INTERVAL=900, ROLE="upload", ERASURE_RESUME_AFTER=3600)
    def test_the_sweep_finishes_a_deletion_whose_thread_died(self):
        # what close_account leaves when the thread dies with its process
        late = User.objects.create_user("erin")
        for member, hours_ago in ((self.member, 2), (late, 0)):
            member.is_active = False
            member.save()
            when = timezone.now() - timedelta(hours=hours_ago)
            PendingErasure.objects.create(user=member, requested_at=when)
        middleware = MediaSweepMiddleware(lambda request: HttpResponse("ok"))
        # the media sweep's failure (its storage down) holds up no deletion
        with mock.patch.object(StoredFile.objects, "sweep", side_effect=OSError("down")):
            middleware(RequestFactory().get("/healthz"))
            middleware.thread.join(timeout=60)
        self.assertFalse(User.objects.filter(pk=self.member.pk).exists())
        # a recent one may still be on its thread: left for a later sweep
        self.assertTrue(PendingErasure.objects.filter(user=late).exists())

    def test_one_deletion_that_fails_holds_up_no_other(self):
        other = User.objects.create_user("erin")
        for member in (self.member, other):
            member.is_active = False
            member.save()
            PendingErasure.objects.create(user=member)
        real_delete = erasure.delete_account

        def fails_for_the_first(user):
            if user.pk == self.member.pk:
                raise RuntimeError("a row that cannot go")
            real_delete(user)

        with mock.patch.object(erasure, "delete_account", fails_for_the_first):
            self.assertEqual(erasure.erase_pending(), 1)
        self.assertTrue(PendingErasure.objects.filter(user=self.member).exists())
        self.assertFalse(User.objects.filter(pk=other.pk).exists())

    def test_a_row_added_while_it_is_deleted_is_deleted_on_the_next_try(self):
        # MariaDB refused the user's deletion (1451) when a request sent before the
        # account closed wrote a row after the deletion had collected the account's rows
        self.member.is_active = False
        self.member.save()
        PendingErasure.objects.create(user=self.member)
        real_delete, tries = erasure.delete_account, []

        def a_row_comes_in_meanwhile(user):
            tries.append(user.pk)
            if len(tries) == 1:
                raise IntegrityError("(1451, 'Cannot delete or update a parent row')")
            real_delete(user)

        with (
            mock.patch.object(erasure, "delete_account", a_row_comes_in_meanwhile),
            mock.patch.object(erasure, "ERASURE_RETRY_WAIT", 0),
        ):
            self.assertEqual(erasure.erase_pending(self.member.pk), 1)
        self.assertEqual(tries, [self.member.pk, self.member.pk])
        self.assertFalse(User.objects.filter(pk=self.member.pk).exists())


class UploadWhileTheAccountIsDeletedTests(TransactionTestCase):
    """An upload the member sent before deleting their account, still being processed
    when the account closes: the account and everything in it go, the upload included,
    and neither request fails. Before the deletion tried again, it failed on MariaDB in
    one round of a sweep of 8 (a race: this test does not meet it every run; the retry
    itself is the test above)."""

    def test_the_account_goes_with_the_upload_and_both_are_answered(self):
        for n in range(8):
            member = User.objects.create_user(f"uma{n}", password=PASSWORD)
            browser, answers = signed_in(member), []
            photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")
            upload = {"photo": photo, "caption": "last one"}
            run_together(
                functools.partial(post_in_a_tab, browser, "/upload/", upload, answers),
                functools.partial(
                    post_in_a_tab, browser, "/accounts/delete/", {"password": PASSWORD}, answers
                ),
                delays=[0, n * 0.02],
            )
            self.assertTrue(all(answer.status_code < 500 for answer in answers))
            self.assertFalse(User.objects.filter(pk=member.pk).exists())
            self.assertFalse(Post.objects.filter(author_id=member.pk).exists())
