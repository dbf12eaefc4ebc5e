"""Loading the WSGI module loads, before a preloading master forks its workers, what each
worker would otherwise build at its first requests (extagram/core/preload.py), and opens
no connection that the forked workers would share."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from django.template import TemplateSyntaxError
from django.test import SimpleTestCase, override_settings

from extagram.core.preload import load_shared_state, project_template_names

REPO = Path(__file__).resolve().parents[3]

# Run in a fresh interpreter: what loading extagram.wsgi left in the process.
AFTER_LOADING = """
import json, sys
import extagram.wsgi
from django.conf import settings
from django.db import connections
from django.template import engines
from django.utils.translation import trans_real
from extagram.core.preload import project_template_names
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "compiled": sorted(loader.get_template_cache),
    "templates": project_template_names(),
    "catalogs": sorted(trans_real._translations),
    "languages": sorted(code for code, _ in settings.LANGUAGES),
    "cache_client": "django_redis.client" in sys.modules,
    "database_connections": sum(c.connection is not None for c in connections.all()),
}))
"""


def load_the_wsgi_module(tmp_path, **env):
    environ = {**os.environ, "EXTAGRAM_DATA_DIR": str(tmp_path), "EXTAGRAM_ROLE": "app", **env}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", AFTER_LOADING],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def load_with_a_cache_listener(tmp_path):
    """load_the_wsgi_module with Redis configured at a Listener: (what it loaded, the
    number of connections the listener saw)."""
    cache = Listener()
    try:
        loaded = load_the_wsgi_module(tmp_path, REDIS_URL=f"redis://127.0.0.1:{cache.port}/0")
    finally:
        cache.close()
    return loaded, cache.accepted


class Listener:
    """A TCP listener on loopback that counts the connections made to it."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()

    def close(self):
        self.stopped.set()
        self.thread.join()
        self.socket.close()


class PreloadTests(SimpleTestCase):
    def setUp(self):
        self.tmp_path = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def test_loading_the_wsgi_module_compiles_every_project_template(self):
        loaded = load_the_wsgi_module(self.tmp_path)
        self.assertIn("posts/feed.html", loaded["templates"])
        self.assertIn("base.html", loaded["templates"])
        self.assertLessEqual(set(loaded["templates"]), set(loaded["compiled"]))

    def test_loading_the_wsgi_module_loads_every_languages_catalogs_and_the_cache_client(self):
        loaded, _ = load_with_a_cache_listener(self.tmp_path)
        self.assertLessEqual(set(loaded["languages"]), set(loaded["catalogs"]))
        self.assertTrue(loaded["cache_client"])

    def test_it_connects_to_neither_the_database_nor_the_cache_before_the_fork(self):
        loaded, cache_connections = load_with_a_cache_listener(self.tmp_path)
        self.assertEqual(cache_connections, 0)
        self.assertEqual(loaded["database_connections"], 0)

    def test_a_template_that_does_not_compile_stops_the_server_at_start(self):
        (self.tmp_path / "broken.html").write_text("{% if %}")
        templates = [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [self.tmp_path],
            }
        ]
        with override_settings(TEMPLATES=templates), self.assertRaises(TemplateSyntaxError):
            load_shared_state()

    def test_template_names_are_the_files_under_the_template_folders(self):
        (self.tmp_path / "emails").mkdir()
        (self.tmp_path / "emails" / "welcome.txt").write_text("Hello")
        (self.tmp_path / "page.html").write_text("<p>")
        (self.tmp_path / "notes.md").write_text("not a template")
        templates = [
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [self.tmp_path]}
        ]
        with override_settings(TEMPLATES=templates):
            self.assertEqual(project_template_names(), ["emails/welcome.txt", "page.html"])
