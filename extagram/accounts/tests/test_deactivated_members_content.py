"""A member staff deactivate leaves the site with all they made, until reactivated: their
posts leave every feed, tag page and post page, their comments leave the posts they are
on, their likes and comments leave the counts, and what they did leaves other members'
notifications."""

import time
from functools import partial

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, TransactionTestCase

from extagram.posts.models import Comment, Like, Post
from extagram.social.models import Follow, Notification
from extagram.testing.base import BaseTestCase, make_post
from extagram.testing.threads import run_together


class DeactivatedMembersContentTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post(self.owner, caption="spam from alice #extagram")
        self.kept = self.make_post(self.stranger, caption="bob's beach #extagram")
        Follow.follow(self.stranger, self.owner)
        self.client.force_login(self.stranger)

    def deactivate(self, user):
        self.client.force_login(self.staff)
        action = {"action": "deactivate", "_selected_action": [user.pk]}
        self.assertEqual(self.client.post("/admin/auth/user/", action).status_code, 302)
        self.client.force_login(self.stranger)

    def reactivate(self, user):
        user.is_active = True
        user.save()

    def pages(self):
        return ["/", "/explore/", "/tags/extagram/"]

    def test_their_posts_leave_every_feed_and_tag_page(self):
        for path in self.pages():
            self.assertContains(self.client.get(path), "spam from alice")
        self.deactivate(self.owner)
        for path in self.pages():
            page = self.client.get(path)
            self.assertNotContains(page, "spam from alice")
            self.assertContains(page, "bob&#x27;s beach")
        self.assertNotContains(Client().get("/"), "spam from alice")

    def test_their_post_page_is_a_404_and_cannot_be_liked_or_commented(self):
        self.deactivate(self.owner)
        self.assertEqual(self.client.get(f"/p/{self.post.pk}/").status_code, 404)
        self.assertEqual(Client().get(f"/p/{self.post.pk}/").status_code, 404)
        self.assertEqual(self.client.post(f"/p/{self.post.pk}/like/").status_code, 404)
        comment = {"body": "nice"}
        self.assertEqual(self.client.post(f"/p/{self.post.pk}/comment/", comment).status_code, 404)
        self.assertFalse(Like.objects.filter(post=self.post).exists())
        self.assertFalse(Comment.objects.filter(post=self.post).exists())

    def test_reactivation_brings_everything_back(self):
        Comment.objects.create(post=self.kept, author=self.owner, body="alice was here")
        self.deactivate(self.owner)
        self.owner.refresh_from_db()
        self.reactivate(self.owner)
        for path in self.pages():
            self.assertContains(self.client.get(path), "spam from alice")
        self.assertEqual(self.client.get(f"/p/{self.post.pk}/").status_code, 200)
        self.assertContains(self.client.get(f"/p/{self.kept.pk}/"), "alice was here")

    def test_their_comments_leave_the_posts_they_are_on(self):
        Comment.objects.create(post=self.kept, author=self.owner, body="alice was here")
        Comment.objects.create(post=self.kept, author=self.staff, body="sam was here")
        self.assertContains(self.client.get(f"/p/{self.kept.pk}/"), "alice was here")
        self.deactivate(self.owner)
        page = self.client.get(f"/p/{self.kept.pk}/")
        self.assertNotContains(page, "alice was here")
        self.assertContains(page, "sam was here")

    def test_what_they_did_leaves_other_members_notifications(self):
        Like.toggle(self.kept, self.owner)
        Comment.objects.create(post=self.kept, author=self.staff, body="sam was here")
        self.assertEqual(Notification.unread_count(self.stranger), 2)
        self.deactivate(self.owner)
        self.assertEqual(Notification.unread_count(self.stranger), 1)
        page = self.client.get("/notifications/")
        self.assertNotContains(page, "/u/alice/")
        self.assertContains(page, "/u/sam/")

    def test_notifications_about_their_posts_leave_too(self):
        Comment.objects.create(post=self.post, author=self.staff, body="hi @bob")
        self.assertEqual(Notification.unread_count(self.stranger), 1)
        self.deactivate(self.owner)
        self.assertEqual(Notification.unread_count(self.stranger), 0)
        self.assertNotContains(self.client.get("/notifications/"), f"/p/{self.post.pk}/")
        self.reactivate(self.owner)
        self.assertEqual(Notification.unread_count(self.stranger), 1)

    def test_their_post_edit_and_delete_pages_are_404s_as_its_page(self):
        self.deactivate(self.owner)
        for action in ("edit", "delete"):
            self.assertEqual(self.client.post(f"/p/{self.post.pk}/{action}/").status_code, 404)
        self.assertTrue(Post.objects.filter(pk=self.post.pk).exists())

    def counts(self, post=None):
        post = Post.objects.get(pk=(post or self.kept).pk)
        return post.like_count, post.comment_count

    def engage_with_the_kept_post(self):
        for member in (self.owner, self.staff):
            Like.toggle(self.kept, member)
            Comment.objects.create(post=self.kept, author=member, body="one")
        Comment.objects.create(post=self.kept, author=self.owner, body="two")
        self.assertEqual(self.counts(), (2, 3))

    def test_their_likes_and_comments_leave_the_counts_and_come_back(self):
        self.engage_with_the_kept_post()
        self.deactivate(self.owner)
        self.assertEqual(self.counts(), (1, 1))
        self.assertContains(self.client.get(f"/u/{self.stranger.username}/"), "1</strong> like")
        self.owner.refresh_from_db()
        self.owner.save()  # a save that changes nothing takes nothing again
        self.assertEqual(self.counts(), (1, 1))
        self.reactivate(self.owner)
        self.assertEqual(self.counts(), (2, 3))

    def test_removing_what_a_deactivated_member_made_leaves_the_counts_as_they_are(self):
        self.engage_with_the_kept_post()
        self.deactivate(self.owner)
        Comment.objects.filter(author=self.owner).first().delete()
        Like.objects.get(user=self.owner).delete()
        self.assertEqual(self.counts(), (1, 1))
        self.owner.refresh_from_db()
        self.owner.delete()
        self.assertEqual(self.counts(), (1, 1))

    def test_what_staff_add_for_a_deactivated_member_is_not_counted(self):
        self.deactivate(self.owner)
        self.owner.refresh_from_db()
        Comment.objects.create(post=self.kept, author=self.owner, body="added by staff")
        Like.objects.create(post=self.kept, user=self.owner)
        self.assertEqual(self.counts(), (0, 0))
        self.reactivate(self.owner)
        self.assertEqual(self.counts(), (1, 1))

    def test_posts_copy_the_author_activity_only_when_it_changes(self):
        self.deactivate(self.owner)
        self.assertFalse(Post.objects.get(pk=self.post.pk).author_is_active)
        self.assertTrue(Post.objects.get(pk=self.kept.pk).author_is_active)
        with self.assertNumQueries(1):  # the save's own UPDATE
            self.owner.save(update_fields=["last_login"])

    def test_a_post_staff_give_to_a_deactivated_member_leaves_the_lists_too(self):
        self.deactivate(self.owner)
        self.client.force_login(self.staff)
        form = {"caption": "bob's beach #extagram", "alt_text": "", "author": self.owner.pk}
        page = self.client.post(f"/admin/posts/post/{self.kept.pk}/change/", form)
        self.assertEqual(page.status_code, 302)
        self.client.force_login(self.stranger)
        self.assertNotContains(self.client.get("/explore/"), "bob&#x27;s beach")

    def test_search_offers_no_tag_only_their_posts_carry(self):
        self.make_post(self.owner, caption="#onlyalice")
        self.assertContains(self.client.get("/search/?q=onlyal"), "/tags/onlyalice/")
        self.deactivate(self.owner)
        page = self.client.get("/search/?q=onlyal")
        self.assertNotContains(page, "/tags/onlyalice/")

    def test_the_migration_leaves_out_members_deactivated_before_it(self):
        from importlib import import_module

        from django.apps import apps

        self.engage_with_the_kept_post()
        get_user_model().objects.filter(pk=self.owner.pk).update(is_active=False)  # no signal
        self.assertEqual(self.counts(), (2, 3))
        migration = import_module("extagram.posts.migrations.0005_post_author_is_active")
        migration.leave_out_deactivated_members(apps, None)
        self.assertEqual(self.counts(), (1, 1))
        self.assertFalse(Post.objects.get(pk=self.post.pk).author_is_active)
        self.assertTrue(Post.objects.get(pk=self.kept.pk).author_is_active)
        self.reactivate(get_user_model().objects.get(pk=self.owner.pk))
        self.assertEqual(self.counts(), (2, 3))

    def test_the_migration_backwards_counts_everyone_again(self):
        from importlib import import_module

        from django.apps import apps

        self.engage_with_the_kept_post()
        self.deactivate(self.owner)
        migration = import_module("extagram.posts.migrations.0005_post_author_is_active")
        migration.count_everyone_again(apps, None)
        self.assertEqual(self.counts(), (2, 3))

    def test_a_post_made_for_a_member_deactivated_meanwhile_is_hidden(self):
        author = get_user_model().objects.get(pk=self.stranger.pk)  # read as the upload began
        self.deactivate(self.stranger)
        post = self.make_post(author, caption="uploaded while staff deactivated bob")
        self.assertFalse(Post.objects.get(pk=post.pk).author_is_active)
        self.client.force_login(self.owner)
        self.assertNotContains(self.client.get("/explore/"), "while staff deactivated")

    def test_a_post_given_to_another_member_by_its_author_field_alone_copies_the_flag(self):
        self.deactivate(self.stranger)
        self.post.author = get_user_model().objects.get(pk=self.stranger.pk)
        self.post.save(update_fields=["author"])
        self.assertFalse(Post.objects.get(pk=self.post.pk).author_is_active)

    def test_a_post_inserted_without_the_flag_as_the_version_before_did_is_shown(self):
        # during a rolling deploy the version still running inserts posts without it
        columns = [
            f for f in Post._meta.concrete_fields if f.name not in ("id", "author_is_active")
        ]
        names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
        values = [f.get_db_prep_save(getattr(self.kept, f.attname), connection) for f in columns]
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            insert = f"INSERT INTO posts_post ({names}) VALUES ({marks})"  # noqa: S608 -- the model's columns
            cursor.execute(insert, values)
        newest = Post.objects.order_by("-id").first()
        self.assertNotEqual(newest.pk, self.kept.pk)
        self.assertTrue(newest.author_is_active)


class DeactivatedTwiceAtOnceTests(TransactionTestCase):
    """Two staff (or a double submit) deactivating one member at once: the counts are taken
    down once. On MariaDB (CI's second pass) the second read is_active before the first
    committed and took them down again; on SQLite transactions queue, so it passes there
    either way."""

    def test_the_counts_are_taken_down_once(self):
        User = get_user_model()
        member, liker, author = (User.objects.create_user(n) for n in ("spam", "ann", "cy"))
        post = make_post(author)
        for who in (member, liker):
            Like.toggle(post, who)

        def deactivate(hold):
            with transaction.atomic():
                user = User.objects.get(pk=member.pk)
                user.is_active = False
                user.save(update_fields=["is_active"])
                time.sleep(hold)  # the account's other work, before the commit

        run_together(partial(deactivate, 0.5), partial(deactivate, 0), delays=[0, 0.2])
        self.assertEqual(Post.objects.get(pk=post.pk).like_count, 1)
