import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from extagram.posts.models import Comment, Like
from extagram.social.models import Follow, Notification
from extagram.testing.base import PASSWORD, BaseTestCase


class NotificationTests(BaseTestCase):
    def kinds(self, user):
        return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))

    def test_a_like_a_comment_a_follow_and_a_mention_each_notify(self):
        post = self.make_post(self.owner)
        Like.toggle(post, self.stranger)
        Comment.objects.create(post=post, author=self.stranger, body="lovely")
        Follow.follow(self.stranger, self.owner)
        other = self.make_post(self.staff, caption="with @alice at the beach")
        self.assertEqual(self.kinds(self.owner), ["comment", "follow", "like", "mention"])
        mention = Notification.objects.get(recipient=self.owner, kind="mention")
        self.assertEqual((mention.actor, mention.post_id), (self.staff, other.pk))

    def test_acting_on_your_own_things_notifies_nobody(self):
        post = self.make_post(self.owner, caption="me, @alice")
        Like.toggle(post, self.owner)
        Comment.objects.create(post=post, author=self.owner, body="@alice again")
        self.assertEqual(Notification.objects.count(), 0)

    def test_an_unlike_or_unfollow_takes_its_notification_back(self):
        post = self.make_post(self.owner)
        Like.toggle(post, self.stranger)
        Like.toggle(post, self.stranger)
        Follow.follow(self.stranger, self.owner)
        Follow.unfollow(self.stranger, self.owner)
        self.assertEqual(Notification.objects.count(), 0)

    def test_a_mention_of_an_unknown_handle_notifies_nobody(self):
        self.make_post(self.owner, caption="hi @nobody_here and @bob")
        self.assertEqual(self.kinds(self.stranger), ["mention"])
        self.assertEqual(Notification.objects.count(), 1)

    def test_editing_a_caption_notifies_a_mention_once(self):
        post = self.make_post(self.owner, caption="hi @bob")
        post.caption = "hi @bob, edited"
        post.save()
        self.assertEqual(self.kinds(self.stranger), ["mention"])

    def test_an_edit_that_drops_a_mention_takes_its_notification_back(self):
        post = self.make_post(self.owner, caption="hi @bob and @sam")
        self.client.login(username="alice", password=PASSWORD)
        form = {"caption": "hi @sam", "alt_text": ""}
        self.assertEqual(self.client.post(f"/p/{post.pk}/edit/", form).status_code, 302)
        self.assertEqual(self.kinds(self.stranger), [])
        self.assertEqual(self.kinds(self.staff), ["mention"])
        # a comment's mention of bob is its own, and stays
        Comment.objects.create(post=post, author=self.staff, body="@bob too")
        self.client.post(f"/p/{post.pk}/edit/", {"caption": "hi @bob", "alt_text": ""})
        self.assertEqual(self.kinds(self.stranger), ["mention", "mention"])
        self.assertEqual(self.kinds(self.staff), [])

    def test_the_post_author_mentioned_in_a_comment_gets_only_the_comment_notification(self):
        post = self.make_post(self.owner)
        Comment.objects.create(post=post, author=self.stranger, body="@alice look")
        self.assertEqual(self.kinds(self.owner), ["comment"])

    def test_the_header_shows_the_unread_count_with_the_page(self):
        post = self.make_post(self.owner)
        Like.toggle(post, self.stranger)
        Like.toggle(post, self.staff)
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get("/")
        self.assertContains(page, '<span class="badge">2<span class="visually-hidden"> unread')

    def test_the_list_marks_what_it_shows_as_read(self):
        post = self.make_post(self.owner)
        Like.toggle(post, self.stranger)
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get("/notifications/")
        self.assertContains(page, "liked your post.")
        self.assertContains(page, 'class="unread"')
        self.assertNotContains(page, 'class="badge"')  # the header counts after marking
        self.assertFalse(Notification.objects.filter(read=False).exists())
        self.assertNotContains(self.client.get("/notifications/"), 'class="unread"')

    def test_mark_all_read_reads_the_ones_past_the_page_shown_too(self):
        from extagram.social.views import LIST_PAGE_SIZE

        Notification.objects.bulk_create(
            Notification(recipient=who, actor=self.staff, kind="follow")
            for who in [self.owner] * (LIST_PAGE_SIZE + 10) + [self.stranger]
        )
        self.client.login(username="alice", password=PASSWORD)
        page = self.client.get("/notifications/")  # marks the 50 it shows
        self.assertContains(page, '<span class="badge">10<span class="visually-hidden"> unread')
        self.assertContains(page, 'action="/notifications/read/"')
        response = self.client.post("/notifications/read/", follow=True)
        self.assertRedirects(response, "/notifications/")
        self.assertContains(response, "All your notifications are marked as read.")
        self.assertNotContains(response, 'class="badge"')
        self.assertNotContains(response, 'action="/notifications/read/"')
        self.assertEqual(Notification.unread_count(self.owner), 0)
        self.assertEqual(Notification.unread_count(self.stranger), 1)  # only the member's own

    def test_mark_all_read_takes_only_a_signed_in_post_with_its_csrf_token(self):
        from django.test import Client

        Notification.objects.create(recipient=self.owner, actor=self.staff, kind="follow")
        self.assertRedirects(
            self.client.post("/notifications/read/"),
            "/accounts/login/?next=/notifications/read/",
            fetch_redirect_response=False,
        )
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.get("/notifications/read/")
        self.assertRedirects(response, "/notifications/", fetch_redirect_response=False)
        self.assertEqual(Notification.unread_count(self.owner), 1)  # a GET marks nothing
        checked = Client(enforce_csrf_checks=True)
        checked.login(username="alice", password=PASSWORD)
        self.assertEqual(checked.post("/notifications/read/").status_code, 403)
        self.assertEqual(Notification.unread_count(self.owner), 1)
        self.assertEqual(self.client.put("/notifications/read/").status_code, 405)

    def test_the_list_needs_sign_in_and_shows_only_your_own(self):
        post = self.make_post(self.owner)
        Like.toggle(post, self.stranger)
        response = self.client.get("/notifications/")
        self.assertEqual(response.status_code, 302)
        self.client.login(username="sam", password=PASSWORD)
        self.assertNotContains(self.client.get("/notifications/"), "liked your post.")
        self.assertEqual(Notification.objects.filter(read=True).count(), 0)

    def test_the_count_stops_at_99_plus(self):
        Notification.objects.bulk_create(
            Notification(recipient=self.owner, actor=self.stranger, kind="follow")
            for _ in range(101)
        )
        self.assertEqual(Notification.unread_count(self.owner), 100)
        self.client.login(username="alice", password=PASSWORD)
        self.assertContains(self.client.get("/explore/"), "99+")

    def test_old_notifications_are_pruned_on_write(self):
        old = Notification.objects.create(
            recipient=self.owner,
            actor=self.stranger,
            kind="follow",
            created_at=timezone.now() - timedelta(days=91),
        )
        for _ in range(5):
            Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
        Notification.notify(self.owner.pk, self.staff.pk, "follow")
        self.assertFalse(Notification.objects.filter(pk=old.pk).exists())
        Notification.prune(self.owner.pk, keep=3)
        newest = list(Notification.objects.filter(recipient=self.owner).order_by("-id"))
        self.assertEqual(len(newest), 3)
        self.assertEqual(newest[0].actor, self.staff)

    def test_pruning_in_rounds_deletes_the_oldest_first(self):
        made = [
            Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
            for _ in range(6)
        ]
        Notification.prune(self.owner.pk, keep=2, batch=2)
        left = Notification.objects.filter(recipient=self.owner).order_by("-id")
        # the newest four: no gap between the two kept and the two the next round takes
        self.assertEqual(list(left), made[:1:-1])

    def test_the_list_and_the_unread_count_read_the_members_notifications_first(self):
        # on MariaDB, joined the other way round (every member, then each one's
        # notifications) for a member with many: 105,000-114,000 rows read for a page of 50
        Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
        self.client.login(username="alice", password=PASSWORD)
        with CaptureQueriesContext(connection) as captured:
            self.assertContains(self.client.get("/notifications/"), "bob")
        table = connection.ops.quote_name("social_notification")
        # the unread count's ids and the list's rows (the items not kept are then read by id)
        by_recipient = [
            q["sql"]
            for q in captured
            if f"FROM {table}" in q["sql"] and re.search(r"recipient_id[`\"] = ", q["sql"])
        ]
        self.assertEqual(len(by_recipient), 2, by_recipient)
        for sql in by_recipient:
            self.assertEqual(sql.startswith("SELECT STRAIGHT_JOIN "), connection.vendor == "mysql")

    def test_the_list_pages_with_a_cursor(self):
        from extagram.social import views

        for _ in range(3):
            Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
        self.client.login(username="alice", password=PASSWORD)
        old, views.LIST_PAGE_SIZE = views.LIST_PAGE_SIZE, 2
        try:
            first = self.client.get("/notifications/")
            self.assertEqual(len(first.context["notifications"]), 2)
            cursor = first.context["next_cursor"]
            second = self.client.get(f"/notifications/?before={cursor}")
            self.assertEqual(len(second.context["notifications"]), 1)
        finally:
            views.LIST_PAGE_SIZE = old
        self.assertEqual(self.client.get("/notifications/?before=-1").status_code, 400)

    def test_a_page_past_the_oldest_notification_says_so(self):
        note = Notification.objects.create(recipient=self.owner, actor=self.stranger, kind="follow")
        self.client.login(username="alice", password=PASSWORD)
        past = self.client.get(f"/notifications/?before={note.pk}")
        self.assertContains(past, "No older notifications.")
        self.assertNotContains(past, "Nothing yet.")


class NotificationsPageQueryTests(BaseTestCase):
    def page_queries(self):
        from django.core.cache import cache
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get("/notifications/")
        self.assertEqual(response.status_code, 200)
        return len(queries), response

    def test_the_page_takes_the_same_queries_for_4_and_40_notifications_of_every_kind(self):
        self.client.login(username="alice", password=PASSWORD)
        post, theirs = self.make_post(self.owner), self.make_post(self.staff)

        def notify_four(actor):  # a like, a comment, a follow and a mention
            Like.toggle(post, actor)
            Comment.objects.create(post=post, author=actor, body="lovely")
            Follow.follow(actor, self.owner)
            Comment.objects.create(post=theirs, author=actor, body="hello @alice")

        notify_four(self.stranger)
        few, _ = self.page_queries()
        User = get_user_model()
        for i in range(9):
            notify_four(User.objects.create_user(f"fan{i}"))
        many, response = self.page_queries()
        self.assertEqual(few, many)
        self.assertContains(response, "<time datetime=", count=40)
        self.assertContains(response, f"/p/{post.pk}/", count=20)  # the likes and comments
        self.assertContains(response, f"/p/{theirs.pk}/#comment-", count=10)  # the mentions
