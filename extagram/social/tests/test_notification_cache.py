"""The notifications page's items are rendered once and kept
(extagram/social/notification_items.py) and are never stale: the relative time is put in
per request and everything else an item shows is in its key. What a member sees is the
template's own rendering, byte for byte."""

from datetime import timedelta

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test.utils import override_script_prefix
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from extagram.posts.models import Comment, Like
from extagram.social.models import Follow, Notification
from extagram.social.notification_items import (
    NOTIFICATION_FRAGMENTS,
    NotificationRow,
    notification_items,
)
from extagram.testing.base import BaseTestCase


class NotificationCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        NOTIFICATION_FRAGMENTS.copies.clear()
        post = self.make_post(self.owner)
        Like.toggle(post, self.stranger)
        self.comment = Comment.add(post, self.stranger, "Lovely <b>light</b> " + "word " * 30)
        Follow.follow(self.staff, self.owner)
        Comment.add(self.make_post(self.staff), self.staff, "hello @alice")
        self.make_post(self.stranger, caption="with @alice")
        self.client.force_login(self.owner)

    def items(self):
        return notification_items(NotificationRow.newest(self.owner.pk, None, 50))

    def template_items(self):
        """Each item as the template renders it in full."""
        return [
            render_to_string(
                "social/_notification.html",
                {"n": n, "when": conditional_escape(naturaltime(n.created_at))},
            )
            for n in Notification.objects.filter(recipient=self.owner).order_by("-id")
        ]

    def test_each_item_is_the_templates_own_rendering(self):
        # long ago: a relative time that cannot change between the two renderings compared
        Notification.objects.update(created_at=timezone.now() - timedelta(days=800))
        kinds = set(Notification.objects.values_list("kind", flat=True))
        self.assertEqual(kinds, {"like", "comment", "follow", "mention"})
        for language in ("en", "es", "ca"):
            for prefix in ("/", "/sub/"):
                with (
                    self.subTest(language=language, prefix=prefix),
                    translation.override(language),
                    override_script_prefix(prefix),
                ):
                    first = [item["html"] for item in self.items()]  # rendered and kept
                    self.assertEqual(first, self.template_items())
                    self.assertEqual([item["html"] for item in self.items()], first)

    def item_renders(self):
        """How many items the next notifications page renders from the template."""
        module = "extagram.social.notification_items"
        return self.renders_of("social/_notification.html", module, "/notifications/")

    def test_an_item_is_rendered_once_for_every_view_and_process(self):
        self.assertEqual(self.item_renders(), 5)
        self.assertEqual(self.item_renders(), 0)
        NOTIFICATION_FRAGMENTS.copies.clear()  # as another process: the shared cache has them
        self.assertEqual(self.item_renders(), 0)
        Like.toggle(self.make_post(self.owner), self.staff)
        self.assertEqual(self.item_renders(), 1)

    def test_the_unread_mark_is_the_pages_own_not_the_kept_items(self):
        first = self.client.get("/notifications/")
        self.assertContains(first, '<li class="unread">', count=5)
        second = self.client.get("/notifications/")
        self.assertNotContains(second, '<li class="unread">')
        self.assertContains(second, '<li class="">', count=5)

    def test_a_kept_item_shows_its_time_as_of_each_request(self):
        self.client.get("/notifications/")
        Notification.objects.update(created_at=timezone.now() - timedelta(hours=3))
        page = self.client.get("/notifications/")
        self.assertContains(page, "3\xa0hours ago", count=5)
        self.assertNotContains(page, "<!--extagram:")

    def test_a_new_display_name_shows_at_once(self):
        self.client.get("/notifications/")
        profile = self.stranger.profile
        profile.display_name = "Bob the Builder"
        profile.save()
        self.assertContains(self.client.get("/notifications/"), "Bob the Builder", count=3)

    def test_a_comment_whose_text_staff_changed_shows_the_new_text_at_once(self):
        self.client.get("/notifications/")
        Comment.objects.filter(pk=self.comment.pk).update(body="[removed by staff]")
        page = self.client.get("/notifications/")
        self.assertContains(page, "[removed by staff]")
        self.assertNotContains(page, "Lovely")
