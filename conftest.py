"""Shared pytest setup for the whole suite."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    from django.conf import settings

    config.addinivalue_line("markers", "ratelimit: keep rate limiting on for this test")
    # Fast hashing for test users (set before any class-level test data exists).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests serve static files from the source folders; no collectstatic needed.
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests use a file in WAL mode, as `make run` does, not Django's in-memory default.

    (And a server database gets a name of its own per run, below.)

    Threads of an in-memory ("shared cache") database lock whole tables and fail at
    once with "database table is locked" instead of waiting; the embedded site serves
    8 threads on a file, and concurrency tests must see what it sees.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_name = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_name)
    elif not database.get("TEST", {}).get("NAME"):
        # One test database per run: runs that share a server do not drop each other's.
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _isolated_site(request, settings, tmp_path):
    """Each test gets its own media folder and an empty cache."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.RATELIMIT_ENABLE = request.node.get_closest_marker("ratelimit") is not None
    # No background media sweeps (they would wait on the tests' open transactions).
    settings.MEDIA_SWEEP_INTERVAL = 0
    # an account's deletion runs at its commit, not on a thread of its own
    # (extagram/accounts/tests/test_erasure_in_background.py runs the thread)
    settings.ERASURE_IN_BACKGROUND = False
    # A manage.py run elsewhere on the machine does not clear this test's cache.
    settings.LOCAL_CACHE_GENERATION_FILE = tmp_path / "cache-generation"
    cache.clear()
    yield
    cache.clear()


def _skipped(config):
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return reporter.stats.get("skipped", []) if reporter else []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test hides a missing piece: the run fails."""
    skipped = _skipped(session.config)
    if IN_CI and skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = _skipped(config)
    if IN_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped; in CI every test must run.", red=True
        )


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 2)[-2]
    return f"extagram: database={db} cache={cache} CI={IN_CI}"
