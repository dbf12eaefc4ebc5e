"""Loading the WSGI module loads, before a preloading master forks its workers, what each
worker would otherwise build at its first requests (extagram/core/preload.py), and opens
no connection that the forked workers would share."""

import json
import socket
import tempfile
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from django.template import TemplateSyntaxError
from django.test import SimpleTestCase, TestCase, override_settings

from extagram.core.preload import (
    check_database_credentials,
    load_shared_state,
    project_template_names,
)
from extagram.testing.wsgi import after_loading_the_wsgi_module

# Printed in a fresh interpreter after `import extagram.wsgi`: what loading it left there.
AFTER_LOADING = """
import json, sys
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
    return json.loads(after_loading_the_wsgi_module(AFTER_LOADING, tmp_path, **env))


def load_with_a_cache_listener(tmp_path):
    """load_the_wsgi_module with Redis configured at a loopback listener nobody accepts
    from: (what it loaded, the number of connections made to the listener, which the
    kernel queues until accepted)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        loaded = load_the_wsgi_module(tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0")
        listener.setblocking(False)
        connections = 0
        while True:
            try:
                listener.accept()[0].close()
            except BlockingIOError:
                return loaded, connections
            connections += 1


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

    def test_it_leaves_no_connection_for_the_forked_workers_to_share(self):
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


def _server_database(error=None):
    """A stand-in for a MariaDB connection whose connecting raises `error`, if given."""
    probe = mock.Mock(vendor="mysql")
    probe.ensure_connection.side_effect = error
    return probe


class DatabaseCredentialsTests(TestCase):
    def test_a_password_the_database_refuses_stops_the_server_at_start(self):
        for code in (1044, 1045):
            refused = _server_database(OperationalError(code, "Access denied for user"))
            with self.subTest(code=code), self.assertRaises(ImproperlyConfigured) as raised:
                check_database_credentials(refused)
            self.assertIn("refuses this server's credentials", str(raised.exception))
            refused.close.assert_called_once()

    def test_a_database_that_does_not_answer_is_left_to_the_requests(self):
        away = _server_database(OperationalError(2003, "Can't connect to server"))
        check_database_credentials(away)
        away.close.assert_called_once()

    def test_the_configured_database_takes_the_configured_credentials(self):
        check_database_credentials(connection.copy())
        probe = connection.copy()
        probe.settings_dict["PASSWORD"] = f"not-{probe.settings_dict['PASSWORD']}"
        if connection.vendor == "mysql":  # MariaDB in CI's second pass
            with self.assertRaises(ImproperlyConfigured):
                check_database_credentials(probe)
            self.assertIsNone(probe.connection)
        else:  # SQLite has no credentials: nothing to check, no connection made
            check_database_credentials(probe)
            self.assertIsNone(probe.connection)
