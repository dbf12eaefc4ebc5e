from importlib import import_module

from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.posts.models import Comment, Post
from extagram.social.models import PostTag
from extagram.testing.base import PASSWORD, BaseTestCase


def tags_of(post):
    return set(PostTag.objects.filter(post=post).values_list("tag__name", flat=True))


def shown_under(client, name):
    return [p.pk for p in client.get(f"/tags/{name}/").context["posts"]]


class TagsInTheAuthorsOwnCommentsTests(BaseTestCase):
    def setUp(self):
        self.post = self.make_post(caption="Evening at the pier")

    def comment(self, who, body):
        self.client.login(username=who, password=PASSWORD)
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": body})
        self.assertEqual(response.status_code, 302)
        self.client.logout()
        return Comment.objects.filter(post=self.post).latest("pk")

    def test_a_tag_in_the_authors_own_comment_files_the_post_under_it(self):
        self.comment("alice", "#Sunset #sea")
        self.assertEqual(tags_of(self.post), {"sunset", "sea"})
        self.assertEqual(shown_under(self.client, "sunset"), [self.post.pk])
        found = self.client.get("/search/", {"q": "#suns"}).context["tags"]
        self.assertEqual([t.name for t in found], ["sunset"])

    def test_another_members_comment_files_nobodys_post_under_its_tags(self):
        self.comment("bob", "#spam #sunset")
        self.assertEqual(tags_of(self.post), set())
        page = self.client.get(self.post.get_absolute_url())
        self.assertContains(page, '<a class="tag" href="/tags/spam/">#spam</a>')
        self.assertContains(self.client.get("/tags/spam/"), "No posts with this tag.")

    def test_removing_the_comment_leaves_the_tags_the_caption_or_other_comments_carry(self):
        self.post.caption = "#sea at dusk"
        self.post.save()
        first = self.comment("alice", "#sea #sunset #pier")
        self.comment("alice", "and #pier again")
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.post(f"/c/{first.pk}/delete/").status_code, 302)
        self.assertEqual(tags_of(self.post), {"sea", "pier"})
        self.assertEqual(shown_under(self.client, "sunset"), [])

    def test_a_comment_edited_by_staff_keeps_the_tags_in_step(self):
        comment = self.comment("alice", "#sunset")
        comment.body = "no tags now, #dusk instead"
        comment.save()
        self.assertEqual(tags_of(self.post), {"dusk"})
        comment.body = "none at all"
        comment.save()
        self.assertEqual(tags_of(self.post), set())

    def test_editing_the_caption_keeps_the_tags_of_the_authors_comments(self):
        self.comment("alice", "#sunset")
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.post(f"/p/{self.post.pk}/edit/", {"caption": "#pier only"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(tags_of(self.post), {"pier", "sunset"})

    def test_a_post_given_to_another_member_goes_under_the_new_authors_comments_tags(self):
        self.comment("alice", "#sunset")
        self.comment("bob", "#mine")
        self.post.author = self.stranger
        self.post.save()
        self.assertEqual(tags_of(self.post), {"mine"})

    def test_a_post_and_an_account_with_such_comments_are_deleted_whole(self):
        self.comment("alice", "#sunset")
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.post(f"/p/{self.post.pk}/delete/").status_code, 302)
        self.assertFalse(PostTag.objects.exists())
        self.post = self.make_post()
        self.comment("alice", "#dusk")
        self.owner.delete()
        self.assertFalse(Post.objects.exists() or PostTag.objects.exists())

    def test_a_comment_without_tags_reads_no_tags(self):
        self.client.login(username="alice", password=PASSWORD)
        with CaptureQueriesContext(connection) as queries:
            self.client.post(f"/p/{self.post.pk}/comments/", {"body": "lovely light"})
        self.assertFalse([q for q in queries if "social_posttag" in q["sql"]])

    def test_the_migration_files_existing_posts_under_their_comments_tags_and_back(self):
        migration = import_module(
            "extagram.social.migrations.0005_tags_in_the_authors_own_comments"
        )
        self.post.caption = "#sea"
        self.post.save()
        self.comment("alice", "#sunset")
        self.comment("bob", "#spam")
        PostTag.objects.filter(tag__name="sunset").delete()  # as the code before left it
        migration.with_own_comments(apps, None)
        self.assertEqual(tags_of(self.post), {"sea", "sunset"})
        migration.captions_only(apps, None)
        self.assertEqual(tags_of(self.post), {"sea"})
