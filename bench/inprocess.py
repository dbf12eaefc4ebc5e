"""The site in this process, for the in-process benches (bench.logins, bench.social).

One place for the throw-away bootstrap they share: settings from the environment as
`make run` would read them, the data (SQLite file, media) in a directory the caller
owns, no Redis (the in-process cache), no rate limits, static files without
collectstatic, the schema migrated.
"""

import os


def start_django(data_dir, database_url=None):
    """Configure and set up Django for a bench run in this process; returns nothing.

    `data_dir`: where the SQLite database and media go (EXTAGRAM_DATA_DIR), usually a
    tempfile.TemporaryDirectory. `database_url`: a server database to use instead of
    SQLite (DATABASE_URL); it is flushed after migrating, so it must be one the bench
    may empty. Without it, any DATABASE_URL in the environment is ignored. REDIS_URL is
    always ignored. Call once per process, before importing models.
    """
    os.environ.update(
        EXTAGRAM_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="extagram.settings",
        RATELIMIT_ENABLE="false",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Pages render without collectstatic (the manifest storage would need its manifest).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    if database_url:
        call_command("flush", interactive=False, verbosity=0)
