"""On the embedded default the cache lives in the server's process: what a manage.py command
writes beside it (`make demo`, as the README says, a shell, seed_posts) shows at the
server's next request, not when its cached ids and numbers expire (extagram.core.caching)."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.test import modify_settings, override_settings

from extagram.core.caching import commands_ended
from extagram.core.tests.test_settings import run_python
from extagram.testing.base import PASSWORD, BaseTestCase

MIDDLEWARE = "extagram.core.caching.ClearedAfterCommandsMiddleware"
EMBEDDED_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
}


def manage(*args, data_dir, **env):
    return run_python("manage.py", *args, EXTAGRAM_DATA_DIR=str(data_dir), **env)


class CommandsBesideTheServerTests(BaseTestCase):
    def setUp(self):
        for change in (  # also with Redis (where settings list no such middleware)
            modify_settings(MIDDLEWARE={"remove": [MIDDLEWARE]}),
            modify_settings(MIDDLEWARE={"prepend": [MIDDLEWARE]}),
        ):
            change.enable()
            self.addCleanup(change.disable)
        self.make_post(caption="before")
        self.client.login(username="bob", password=PASSWORD)

    def post_from_another_process(self):
        # another process's stamps are replaced in its own cache, not in this one
        with mock.patch("extagram.social.models.replace_stamp"):
            self.make_post(caption="after")

    def test_a_post_a_command_made_shows_at_the_next_request(self):
        self.assertNotContains(self.client.get("/explore/"), "after")
        self.assertContains(self.client.get("/u/alice/"), "<strong>1</strong> post")
        self.post_from_another_process()
        self.assertNotContains(self.client.get("/explore/"), "after")  # the kept ids
        commands_ended()  # what manage.py does when a command ends (tested below)
        self.assertContains(self.client.get("/explore/"), "after")
        self.assertContains(self.client.get("/u/alice/"), "<strong>2</strong> posts")

    def test_without_a_command_the_cache_is_kept(self):
        self.client.get("/explore/")
        self.post_from_another_process()
        for _ in range(2):
            self.assertNotContains(self.client.get("/explore/"), "after")


@pytest.mark.ratelimit
@override_settings(CACHES=EMBEDDED_CACHE)
class RateLimitsOutliveCommandsTests(BaseTestCase):
    def setUp(self):
        change = modify_settings(MIDDLEWARE={"prepend": [MIDDLEWARE]})
        change.enable()
        self.addCleanup(change.disable)

    def test_a_locked_log_in_stays_locked_when_a_command_ends(self):
        # the whole cache was cleared, and with it the counts: `manage.py check` beside
        # the server let a locked account be guessed at again at once (a helper's trial)
        for i in range(10):
            self.client.post("/accounts/login/", {"login": "alice", "password": f"guess{i}"})
        login = {"login": "alice", "password": PASSWORD}
        self.assertEqual(self.client.post("/accounts/login/", login).status_code, 429)
        commands_ended()
        self.assertEqual(self.client.post("/accounts/login/", login).status_code, 429)
        cache.set("explore-ids", [1, 2])  # what the server keeps otherwise does go
        commands_ended()
        self.client.get("/healthz")
        self.assertIsNone(cache.get("explore-ids"))


def test_manage_py_replaces_the_file_on_the_embedded_default_only(tmp_path):
    embedded, redis = tmp_path / "embedded", tmp_path / "redis"
    for folder in (embedded, redis):
        folder.mkdir()
    result = manage("check", data_dir=embedded)
    assert result.returncode == 0, result.stderr
    first = (embedded / "cache-generation").read_text()
    assert manage("check", data_dir=embedded).returncode == 0
    assert (embedded / "cache-generation").read_text() != first
    # a command that fails ends too (manage.py's finally)
    assert manage("no_such_command", data_dir=embedded).returncode != 0
    assert (embedded / "cache-generation").read_text() != first
    # with Redis every process shares the cache: no file is needed
    result = manage("check", data_dir=redis, REDIS_URL="redis://127.0.0.1:9/0")
    assert result.returncode == 0, result.stderr
    assert not (redis / "cache-generation").exists()
