"""{% avatar_and_name %} gives exactly what the two includes give, and follows every change
to what they show."""

from django.template import Context, Template

from extagram.accounts.templatetags import people
from extagram.testing.base import BaseTestCase

INCLUDES = Template('{% include "_avatar.html" with size=size %} {% include "_user_name.html" %}')
TAG = Template("{% load people %}{% avatar_and_name person size %}")


class AvatarAndNameTests(BaseTestCase):
    def setUp(self):
        people.SHOWN.clear()

    def both(self, person, size=32):
        context = {"person": person, "size": size}
        return TAG.render(Context(context)), INCLUDES.render(Context(context))

    def test_it_is_the_includes_own_html_for_every_look(self):
        profile = self.owner.profile
        looks = [
            ("", "", 0, "", 0),
            ('Al <b>"Ice"</b> & co', "", 0, "", 0),
            ("אליס", "avatars/a-small.jpg", 64, "avatars/a-large.jpg", 320),
        ]
        for look in looks:
            for size in (24, 32):
                (
                    profile.display_name,
                    profile.avatar_small,
                    profile.avatar_small_side,
                    profile.avatar_large,
                    profile.avatar_side,
                ) = look
                with self.subTest(look=look, size=size):
                    tag, includes = self.both(self.owner, size)
                    self.assertEqual(tag, includes)

    def test_a_display_name_is_escaped(self):
        self.owner.profile.display_name = '<script>alert("x")</script>'
        tag, _ = self.both(self.owner)
        self.assertNotIn("<script>", tag)
        self.assertIn("&lt;script&gt;", tag)

    def test_a_new_name_or_picture_shows_at_once(self):
        profile = self.owner.profile
        first, _ = self.both(self.owner)
        profile.display_name = "Alícia"
        renamed, _ = self.both(self.owner)
        self.assertIn("Alícia", renamed)
        profile.avatar_small, profile.avatar_small_side = "avatars/new-small.jpg", 64
        profile.avatar_large, profile.avatar_side = "avatars/new-large.jpg", 320
        pictured, _ = self.both(self.owner)
        self.assertIn("avatars/new-small.jpg", pictured)
        self.owner.username = "alicia"
        self.assertIn("@alicia", self.both(self.owner)[0])
        self.assertNotEqual(first, renamed)

    def test_each_member_has_their_own(self):
        alice, _ = self.both(self.owner)
        bob, _ = self.both(self.stranger)
        self.assertIn("alice", alice)
        self.assertIn("bob", bob)
        self.assertNotIn("alice", bob)

    def test_it_is_rendered_once_per_look_and_the_memory_is_bounded(self):
        self.both(self.owner)
        self.both(self.owner)
        self.assertEqual(len(people.SHOWN), 1)
        for size in range(people.SHOWN.kept + 5):
            self.both(self.owner, size)
        self.assertLessEqual(len(people.SHOWN), people.SHOWN.kept)
