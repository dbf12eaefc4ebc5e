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
