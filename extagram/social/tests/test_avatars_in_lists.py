"""Profile pictures beside people's names in the lists of people: followers and following,
search results, notifications and the empty home feed's suggestions."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.accounts.models import Profile
from extagram.social.models import Follow, Notification
from extagram.testing.base import PASSWORD, BaseTestCase

PICTURE = "photos/ab/alice-small.jpg"


class AvatarsInListsTests(BaseTestCase):
    def setUp(self):
        Profile.objects.filter(user=self.owner).update(
            avatar_large="photos/ab/alice.jpg",
            avatar_small=PICTURE,
            avatar_side=160,
            avatar_small_side=64,
        )
        self.client.login(username="bob", password=PASSWORD)

    def assertShowsAlicesPicture(self, response):
        self.assertContains(response, f'<img class="avatar" src="/media/{PICTURE}"', count=1)

    def test_the_followers_list_shows_each_persons_picture_or_the_placeholder(self):
        Follow.follow(self.owner, self.staff)
        Follow.follow(self.stranger, self.staff)
        response = self.client.get("/u/sam/followers/")
        self.assertShowsAlicesPicture(response)
        self.assertContains(response, 'class="avatar placeholder"', count=1)

    def test_the_following_list_shows_each_persons_picture(self):
        Follow.follow(self.staff, self.owner)
        self.assertShowsAlicesPicture(self.client.get("/u/sam/following/"))

    def test_search_results_show_each_persons_picture(self):
        self.assertShowsAlicesPicture(self.client.get("/search/?q=ali"))

    def test_a_notification_shows_the_picture_of_who_did_it(self):
        Notification.notify(self.stranger.pk, self.owner.pk, Notification.FOLLOW)
        self.assertShowsAlicesPicture(self.client.get("/notifications/"))

    def test_the_empty_home_feeds_suggestions_show_pictures(self):
        self.make_post(self.owner)
        response = self.client.get("/")
        self.assertContains(response, "Your home feed is empty")
        self.assertShowsAlicesPicture(response)

    def test_pictures_in_the_followers_list_cost_no_query_per_person(self):
        User = get_user_model()
        Follow.follow(self.owner, self.staff)
        self.client.get("/u/sam/followers/")  # the header's unread count is cached from now
        Follow.follow(User.objects.create_user("fan"), self.staff)
        with CaptureQueriesContext(connection) as one_new:
            self.client.get("/u/sam/followers/")
        for i in range(5):
            Follow.follow(User.objects.create_user(f"fan{i}"), self.staff)
        with CaptureQueriesContext(connection) as five_new:
            response = self.client.get("/u/sam/followers/")
        self.assertContains(response, 'class="avatar', count=7)
        self.assertEqual(len(five_new), len(one_new))
        with CaptureQueriesContext(connection) as all_kept:
            self.client.get("/u/sam/followers/")
        self.assertEqual(len(all_kept), len(one_new) - 1)  # no read of people in full
