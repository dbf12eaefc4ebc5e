from extagram.posts.models import Like
from extagram.social.models import Follow, Notification, PostTag, Tag
from extagram.testing.base import PASSWORD, BaseTestCase


class SocialAdminTests(BaseTestCase):
    def test_staff_see_follows_notifications_and_tags_in_the_admin(self):
        Follow.follow(self.stranger, self.owner)
        post = self.make_post(caption="#sea")
        Like.toggle(post, self.stranger)
        self.client.login(username="sam", password=PASSWORD)
        objects = {
            "follow": Follow.objects.get(),
            "notification": Notification.objects.first(),
            "tag": Tag.objects.get(),
            "posttag": PostTag.objects.get(),
        }
        for name, obj in objects.items():
            listing = self.client.get(f"/admin/social/{name}/", {"q": "bob"})
            self.assertEqual(listing.status_code, 200, name)
            change = self.client.get(f"/admin/social/{name}/{obj.pk}/change/")
            self.assertEqual(change.status_code, 200, name)

    def test_members_do_not_reach_the_admin(self):
        self.client.login(username="bob", password=PASSWORD)
        response = self.client.get("/admin/social/follow/")
        self.assertEqual(response.status_code, 302)

    def test_staff_cannot_add_or_rewrite_tags_or_notifications_by_hand(self):
        post = self.make_post(caption="#sea")
        Follow.follow(self.stranger, self.owner)
        self.client.login(username="sam", password=PASSWORD)
        for name in ("tag", "posttag", "notification"):
            self.assertEqual(self.client.get(f"/admin/social/{name}/add/").status_code, 403, name)
        tag = Tag.objects.get()
        response = self.client.post(f"/admin/social/tag/{tag.pk}/change/", {"name": "Café"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(Tag.objects.get().name, "sea")
        delete = self.client.post(f"/admin/social/tag/{tag.pk}/delete/", {"post": "yes"})
        self.assertEqual(delete.status_code, 302)
        self.assertFalse(Tag.objects.exists())
        self.assertEqual(post.caption, "#sea")

    def test_a_follow_added_in_the_admin_needs_no_date(self):
        self.client.login(username="sam", password=PASSWORD)
        response = self.client.post(
            "/admin/social/follow/add/",
            {"follower": self.stranger.pk, "followee": self.owner.pk},
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Follow.objects.filter(follower=self.stranger, followee=self.owner).exists())
