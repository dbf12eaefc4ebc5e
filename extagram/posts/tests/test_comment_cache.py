"""A post page's comments are rendered once and kept (extagram/posts/comments.py), and are
never stale and never another visitor's: the relative time and the delete button (with the
visitor's own CSRF token) are put in per request, everything else a comment shows is in
its key. What a visitor sees is the template's own rendering, byte for byte."""

import re
from datetime import timedelta
from unittest import mock

from django.contrib.auth.models import AnonymousUser
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import override_script_prefix
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from extagram.core.context_processors import page_csrf_token
from extagram.posts.comments import (
    COMMENT_FRAGMENTS,
    COMMENTS_SHOWN,
    comments_html,
    render_comment,
)
from extagram.posts.models import Comment
from extagram.testing.base import BaseTestCase

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class CommentCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        COMMENT_FRAGMENTS.copies.clear()
        self.post = self.make_post()  # by alice, the owner
        self.comments = [
            Comment.add(self.post, self.stranger, "Lovely #sunset, @alice <b>wow</b>\nsecond line"),
            Comment.add(self.post, self.owner, "Thanks!"),
            Comment.add(self.post, self.staff, "Nice"),
        ]

    def request(self, user):
        request = RequestFactory().get(f"/p/{self.post.pk}/")
        request.user = user
        return request

    def template_comments(self, request):
        """The comments as the template renders each in full, for this visitor."""
        html = []
        for comment in Comment.objects.filter(post=self.post).order_by("id"):
            button = ""
            if comment.can_be_deleted_by(request.user):
                context = {"comment": comment, "csrf_token": page_csrf_token(request)}
                button = render_to_string("posts/_comment_delete.html", context)
            when = conditional_escape(naturaltime(comment.created_at))
            html.append(render_comment(comment, when, button))
        return "".join(html)

    def test_each_visitor_sees_the_templates_own_rendering(self):
        # long ago: a relative time that cannot change between the two renderings compared
        Comment.objects.update(created_at=timezone.now() - timedelta(days=800))
        visitors = [AnonymousUser(), self.stranger, self.owner, self.staff]
        for language in ("en", "es", "ca"):
            for prefix in ("/", "/sub/"):
                for user in visitors:
                    with (
                        self.subTest(language=language, prefix=prefix, user=str(user)),
                        translation.override(language),
                        override_script_prefix(prefix),
                    ):
                        request = self.request(user)
                        shown = comments_html(request, self.post).html  # kept the first time
                        self.assertEqual(shown, self.template_comments(request))
                        self.assertEqual(comments_html(request, self.post).html, shown)

    def test_the_delete_button_shows_only_to_those_who_may_use_it(self):
        def deletable(user):
            return re.findall(
                r'action="/c/(\d+)/delete/"', comments_html(self.request(user), self.post).html
            )

        ids = [str(comment.pk) for comment in self.comments]
        self.assertEqual(deletable(AnonymousUser()), [])
        self.assertEqual(deletable(self.stranger), ids[:1])  # their own
        self.assertEqual(deletable(self.staff), ids[2:])
        self.assertEqual(deletable(self.owner), ids)  # the post's author: every comment

    def test_each_member_gets_their_own_csrf_token_on_the_kept_comments(self):
        self.client.force_login(self.owner)
        page = self.client.get(f"/p/{self.post.pk}/").content.decode()
        self.client.force_login(self.stranger)
        other = self.client.get(f"/p/{self.post.pk}/").content.decode()
        for html, session in ((page, "owner"), (other, "stranger")):
            with self.subTest(session=session):
                tokens = TOKEN.findall(html)
                self.assertGreater(len(tokens), 1)
                self.assertEqual(len(set(tokens)), 1)  # one masked token for the whole page
        self.assertNotEqual(TOKEN.findall(page)[0], TOKEN.findall(other)[0])

    def comment_renders(self):
        """How many comments the next post page renders from the template."""
        path = f"/p/{self.post.pk}/"
        return self.renders_of("posts/_comment.html", "extagram.posts.comments", path)

    def test_a_comment_is_rendered_once_for_many_visitors_and_processes(self):
        self.client.force_login(self.stranger)
        self.assertEqual(self.comment_renders(), 3)
        self.client.force_login(self.owner)
        self.assertEqual(self.comment_renders(), 0)
        COMMENT_FRAGMENTS.copies.clear()  # as another process: the shared cache has them
        self.client.logout()
        self.assertEqual(self.comment_renders(), 0)
        Comment.add(self.post, self.owner, "One more")
        self.assertEqual(self.comment_renders(), 1)

    def test_a_kept_comment_shows_its_time_as_of_each_request(self):
        comments_html(self.request(self.stranger), self.post)
        Comment.objects.filter(pk=self.comments[0].pk).update(
            created_at=timezone.now() - timedelta(hours=3)
        )
        self.client.force_login(self.stranger)
        page = self.client.get(f"/p/{self.post.pk}/")
        self.assertContains(page, "3\xa0hours ago")
        self.assertNotContains(page, "<!--extagram:")

    def test_a_new_display_name_and_picture_show_on_kept_comments_at_once(self):
        self.client.get(f"/p/{self.post.pk}/")
        profile = self.stranger.profile
        profile.display_name = "Bob the Builder"
        profile.save()
        self.assertContains(self.client.get(f"/p/{self.post.pk}/"), "Bob the Builder")

    def test_a_comment_whose_text_staff_changed_shows_the_new_text_at_once(self):
        self.client.get(f"/p/{self.post.pk}/")
        # as the admin's change form saves it (or any other path), time unchanged
        Comment.objects.filter(pk=self.comments[0].pk).update(body="[removed by staff]")
        page = self.client.get(f"/p/{self.post.pk}/")
        self.assertContains(page, "[removed by staff]")
        self.assertNotContains(page, "Lovely")

    def test_a_deleted_comment_is_gone_from_the_page_at_once(self):
        self.client.get(f"/p/{self.post.pk}/")
        self.comments[0].remove()
        page = self.client.get(f"/p/{self.post.pk}/")
        self.assertNotContains(page, "Lovely")
        self.assertContains(page, "Thanks!")

    def test_an_id_used_again_shows_the_new_comment_not_the_kept_one(self):
        # as after a database restored from a backup, with the shared cache kept
        old = self.comments[2]
        self.client.get(f"/p/{self.post.pk}/")
        Comment.objects.filter(pk=old.pk).delete()
        Comment.objects.create(pk=old.pk, post=self.post, author=self.staff, body="Different")
        page = self.client.get(f"/p/{self.post.pk}/")
        self.assertContains(page, "Different")
        self.assertNotContains(page, "Nice")

    def test_a_comment_changed_between_its_two_reads_is_kept_under_what_it_shows(self):
        # the page reads the comments' rows, then the missing ones in full: a new display
        # name between the two must not be kept under the old name's key
        profile, read_in_full = self.stranger.profile, Comment.in_id_order

        def renamed_meanwhile(ids):
            profile.display_name = "Meanwhile"
            profile.save()
            return read_in_full(ids)

        with mock.patch.object(Comment, "in_id_order", renamed_meanwhile):
            self.assertIn("Meanwhile", comments_html(self.request(self.owner), self.post).html)
        profile.display_name = ""  # back to the name the first rows were read with
        profile.save()
        self.assertNotIn("Meanwhile", comments_html(self.request(self.owner), self.post).html)

    def test_the_page_shows_the_newest_comments_oldest_first(self):
        Comment.objects.bulk_create(
            Comment(post=self.post, author=self.stranger, body=f"number {n}")
            for n in range(COMMENTS_SHOWN)
        )
        html = comments_html(self.request(self.stranger), self.post).html
        shown = re.findall(r"number (\d+)", html)
        self.assertEqual(len(re.findall(r'<li id="comment-', html)), COMMENTS_SHOWN)
        self.assertNotIn("Lovely", html)  # the oldest three are left out
        self.assertEqual(shown, [str(n) for n in range(COMMENTS_SHOWN)])

    def test_a_post_with_no_comments_says_so(self):
        for comment in self.comments:
            comment.remove()
        self.assertContains(self.client.get(f"/p/{self.post.pk}/"), "No comments yet.")
