"""The items of the lists of people (followers, following, search results) are rendered
once and kept (extagram/social/people_items.py) and are never stale: everything an item
shows is in its key. What a visitor sees is the template's own rendering, byte for byte."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.template import engines
from django.test.utils import override_script_prefix
from django.utils import translation

from extagram.accounts.models import Profile
from extagram.social.models import Follow
from extagram.social.people_items import PERSON_FRAGMENTS, PersonRow, people_items
from extagram.testing.base import BaseTestCase

# The list item as the lists wrote it before their items were kept: the reference.
ITEM = (
    "{% load people %}<li><a href=\"{% url 'profile' person.username %}\">"
    "{% avatar_and_name person 32 %}</a></li>"
)


class PeopleCacheTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        PERSON_FRAGMENTS.copies.clear()
        Profile.objects.filter(user=self.owner).update(
            display_name="Alice <Liddell>",
            avatar_large="photos/ab/alice.jpg",
            avatar_small="photos/ab/alice-small.jpg",
            avatar_side=160,
            avatar_small_side=64,
        )
        for fan in (self.owner, self.stranger):
            Follow.follow(fan, self.staff)

    def followers(self):
        return people_items(PersonRow.follows(self.staff.pk, "followers", None, 50))

    def template_items(self):
        """Each follower's item as the reference template renders it in full."""
        template = engines["django"].from_string(ITEM)
        users = get_user_model().objects.select_related("profile")
        fans = [users.get(pk=pk) for pk in (self.stranger.pk, self.owner.pk)]  # newest first
        return [template.render({"person": fan}) for fan in fans]

    def test_each_item_is_the_templates_own_rendering(self):
        for language in ("en", "es"):
            for prefix in ("/", "/sub/"):
                with (
                    self.subTest(language=language, prefix=prefix),
                    translation.override(language),
                    override_script_prefix(prefix),
                ):
                    first = self.followers()  # rendered and kept
                    self.assertEqual(first, self.template_items())
                    self.assertEqual(self.followers(), first)
        self.assertIn('href="/sub/u/alice/"', "".join(first))

    def item_renders(self, path):
        """How many items the page at `path` renders from the template."""
        return self.renders_of("social/_person.html", "extagram.social.people_items", path)

    def test_an_item_is_rendered_once_for_every_list_and_process(self):
        self.assertEqual(self.item_renders("/u/sam/followers/"), 2)
        self.assertEqual(self.item_renders("/u/sam/followers/"), 0)
        Follow.follow(self.staff, self.owner)
        self.assertEqual(self.item_renders("/u/sam/following/"), 0)  # alice's item is kept
        self.assertEqual(self.item_renders("/search/?q=ali"), 0)
        PERSON_FRAGMENTS.copies.clear()  # as another process: the shared cache has them
        self.assertEqual(self.item_renders("/u/sam/followers/"), 0)

    def test_a_new_name_or_picture_shows_at_once(self):
        self.client.get("/u/sam/followers/")
        profile = Profile.objects.get(user=self.owner)
        profile.display_name = "Alice in Wonderland"
        profile.save()
        self.assertContains(self.client.get("/u/sam/followers/"), "Alice in Wonderland")
        Profile.objects.filter(user=self.owner).update(avatar_small="photos/cd/new-small.jpg")
        self.assertContains(self.client.get("/u/sam/followers/"), "photos/cd/new-small.jpg")
        self.assertContains(self.client.get("/search/?q=ali"), "photos/cd/new-small.jpg")

    def test_search_results_are_the_templates_own_rendering(self):
        response = self.client.get("/search/?q=ali")
        reference = engines["django"].from_string(ITEM)
        alice = get_user_model().objects.select_related("profile").get(pk=self.owner.pk)
        self.assertContains(response, reference.render({"person": alice}), count=1)
