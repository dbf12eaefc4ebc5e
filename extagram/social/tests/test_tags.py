from django.test import override_settings

from extagram.social.models import PostTag, Tag
from extagram.testing.base import PASSWORD, BaseTestCase


@override_settings(FEED_PAGE_SIZE=2)
class TagPageTests(BaseTestCase):
    def test_a_caption_tags_its_post_and_edits_keep_tags_in_step(self):
        post = self.make_post(caption="#Beach day #sun")
        self.assertEqual(set(Tag.objects.values_list("name", flat=True)), {"beach", "sun"})
        post.caption = "#beach only"
        post.save()
        names = PostTag.objects.filter(post=post).values_list("tag__name", flat=True)
        self.assertEqual(set(names), {"beach"})

    def test_a_tag_too_long_for_the_column_once_case_folded_is_left_as_text(self):
        self.make_post(caption="#" + "ß" * 40 + " and #" + "ẞ" * 32)
        self.assertEqual(list(Tag.objects.values_list("name", flat=True)), ["ss" * 32])

    def test_the_tag_page_lists_its_posts_newest_first_across_pages(self):
        posts = [self.make_post(caption=f"#sea number {i}") for i in range(5)]
        self.make_post(caption="#other")
        first = self.client.get("/tags/sea/")
        self.assertEqual([p.pk for p in first.context["posts"]], [posts[4].pk, posts[3].pk])
        self.assertContains(first, f'href="?before={posts[3].pk}"')
        second = self.client.get(f"/tags/sea/?before={posts[3].pk}")
        self.assertEqual([p.pk for p in second.context["posts"]], [posts[2].pk, posts[1].pk])
        last = self.client.get(f"/tags/sea/?before={posts[1].pk}")
        self.assertEqual([p.pk for p in last.context["posts"]], [posts[0].pk])
        self.assertNotContains(last, "Older posts")

    def test_captions_link_their_tags_and_mentions_on_cards(self):
        self.make_post(caption="Fun at #Beach with @bob <b>")
        page = self.client.get("/")
        self.assertContains(page, '<a class="tag" href="/tags/beach/">#Beach</a>')
        self.assertContains(page, '<a class="mention" href="/u/bob/">@bob</a> &lt;b&gt;')

    def test_comments_link_their_tags_and_mentions(self):
        post = self.make_post()
        self.client.login(username="bob", password=PASSWORD)
        self.client.post(f"/p/{post.pk}/comments/", {"body": "hi @alice #wow"})
        page = self.client.get(post.get_absolute_url())
        self.assertContains(page, '<a class="mention" href="/u/alice/">@alice</a>')
        self.assertContains(page, '<a class="tag" href="/tags/wow/">#wow</a>')

    def test_a_tag_in_another_case_redirects_to_its_canonical_page(self):
        self.make_post(caption="#beach")
        response = self.client.get("/tags/BEACH/")
        self.assertEqual((response.status_code, response["Location"]), (301, "/tags/beach/"))
        # a page link's cursor goes along
        response = self.client.get("/tags/BEACH/?before=3")
        self.assertEqual(response["Location"], "/tags/beach/?before=3")

    def test_a_tag_with_trailing_spaces_is_a_404_not_the_tags_page(self):
        # MariaDB's comparison ignores trailing spaces: /tags/beach%20/ was #beach's page
        self.make_post(caption="#beach")
        for name in ("beach%20", "BEACH%20", "beach%20%20"):
            response = self.client.get(f"/tags/{name}/")
            self.assertEqual(response.status_code, 404, name)

    def test_a_link_that_is_no_tag_in_any_case_is_a_404_not_a_redirect(self):
        # a broken percent-escape (Latin-1's é), which Django keeps as the text "%E9": it
        # was redirected to /tags/%25e9/ first, then 404
        for name in ("%E9", "AB%FF", "X!Y"):
            response = self.client.get(f"/tags/{name}/")
            self.assertContains(response, "is not a tag", status_code=404, msg_prefix=name)

    def test_a_tag_no_post_carries_is_an_empty_page_and_a_bad_cursor_a_400(self):
        # a comment's #tag links here even when no caption has it
        page = self.client.get("/tags/nothing/")
        self.assertContains(page, "No posts with this tag.")
        self.assertFalse(Tag.objects.exists())
        self.assertEqual(self.client.get("/tags/123/").status_code, 404)  # not a tag
        self.assertEqual(self.client.get("/tags/" + "a" * 65 + "/").status_code, 404)
        # nor is a name no text could hold as a tag: a tag ends at a space or punctuation
        for name in ("a b", "x!y", "x.y", "@ana", "x%3Fy", "ab-c", "%23ab", "ab%E2%80%8B"):
            response = self.client.get(f"/tags/{name}/")
            self.assertContains(response, "is not a tag", status_code=404, msg_prefix=name)
        self.assertEqual(self.client.get("/tags/caf%C3%A9_2/").status_code, 200)
        # a long name is not echoed whole (it was, 3,000 characters of it)
        response = self.client.get("/tags/" + "b" * 3000 + "/")
        self.assertContains(response, "b" * 79 + "…", status_code=404)
        self.assertNotContains(response, "b" * 81, status_code=404)
        self.make_post(caption="#beach")
        self.assertEqual(self.client.get("/tags/beach/?before=x").status_code, 400)

    def test_tags_that_differ_only_by_an_accent_are_two_tags_on_every_database(self):
        plain = self.make_post(caption="Plain #cafe here")
        accented = self.make_post(caption="#café au lait")
        self.assertEqual(set(Tag.objects.values_list("name", flat=True)), {"cafe", "café"})
        self.assertEqual(
            [p.pk for p in self.client.get("/tags/cafe/").context["posts"]], [plain.pk]
        )
        self.assertEqual(
            [p.pk for p in self.client.get("/tags/café/").context["posts"]], [accented.pk]
        )
        # two tags, each its page; a search finds both (test_search.py)
        found = self.client.get("/search/", {"q": "#cafe"}).context["tags"]
        self.assertEqual([t.name for t in found], ["cafe", "café"])
        found = self.client.get("/search/", {"q": "#caf"}).context["tags"]
        self.assertEqual([t.name for t in found], ["cafe", "café"])

    def test_the_migration_puts_tags_the_old_collation_merged_back_in_step(self):
        from importlib import import_module

        from extagram.posts.models import Post

        migration = import_module("extagram.social.migrations.0003_tag_names_compared_exactly")
        plain = self.make_post(caption="Plain #cafe here")
        accented = self.make_post(caption="#café #sun")
        # as utf8mb4_unicode_ci left them: #cafe's post linked to the accented tag
        PostTag.objects.all().delete()
        Tag.objects.all().delete()
        merged = Tag.objects.create(name="café")
        PostTag.objects.create(post=plain, tag=merged)
        PostTag.objects.create(post=accented, tag=merged)
        self.assertEqual(migration.resync_post_tags(Post, Tag, PostTag), 3)
        names = dict.fromkeys([plain.pk, accented.pk])
        for post in names:
            names[post] = set(PostTag.objects.filter(post=post).values_list("tag__name", flat=True))
        self.assertEqual(names, {plain.pk: {"cafe"}, accented.pk: {"café", "sun"}})
        self.assertEqual(migration.resync_post_tags(Post, Tag, PostTag), 0)

    def test_the_tag_page_takes_the_same_queries_for_2_and_12_posts(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(2):
            self.make_post(caption="#many")
        with CaptureQueriesContext(connection) as small:
            self.client.get("/tags/many/")
        for _ in range(10):
            self.make_post(caption="#many")
        with override_settings(FEED_PAGE_SIZE=12), CaptureQueriesContext(connection) as large:
            self.client.get("/tags/many/")
        self.assertEqual(len(small), len(large))
