from django.core.cache import caches
from django.test import override_settings

from extagram.testing.base import PASSWORD, BaseTestCase

DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


@override_settings(
    CACHES=DEAD_REDIS,
    DJANGO_REDIS_IGNORE_EXCEPTIONS=True,
    SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
)
class CacheOutageTests(BaseTestCase):
    def tearDown(self):
        caches["default"].close()

    def test_the_site_keeps_serving_pages_when_redis_is_down(self):
        self.make_post(caption="still here")
        self.assertContains(self.client.get("/"), "still here")

    def test_members_can_still_log_in_and_post_when_redis_is_down(self):
        response = self.client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/"), "Log out")

    def test_readyz_reports_the_cache_as_down(self):
        response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["cache"], "down")
        self.assertEqual(response.json()["database"], "ok")
