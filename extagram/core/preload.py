"""What a preloading server's master loads before it forks its workers.

gunicorn with `preload_app` (the app image's default) imports `extagram.wsgi` once, in
its master, and forks every worker from it: what the master has loaded by then, each
worker shares (`gc.freeze()` in deploy/app/gunicorn.conf.py keeps it shared) and never
builds again. Django loads much of its state lazily, at a process's first requests, so
without this each new worker paid for it while visitors waited: at start, and again each
time gunicorn replaces a worker after `max_requests` (2,000), every ~12 s under the
bench's signed-in load. The first signed-in Explore page of a fresh process took 194 ms
against ~9 for the next ones; forked from a master that had run load_shared_state(),
67 ms (MariaDB and Redis on loopback; docs/performance.md, "A recycled worker's first
requests").
"""

from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.db import connection as default_connection
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

# The project's own templates: the ones its pages render (Django's and allauth's are
# reached through them, or only by the admin).
TEMPLATE_SUFFIXES = (".html", ".txt")


def load_shared_state():
    """Load what every worker would otherwise load at its first requests: the URLconf and
    with it every view module, the cache backends with their client libraries
    (django-redis and redis-py: 75 modules, imported at the first cache call), each
    language's translation catalogs, and every template in the project's template folders,
    compiled into Django's cached template loader.

    Opens no connection (to the database or the cache server): a connection made here
    would be shared by every forked worker. Returns the number of templates compiled.
    Raises what get_template raises for a template that does not compile
    (TemplateSyntaxError), so a broken template stops the server at start.
    """
    reverse("healthz")
    for alias in settings.CACHES:
        caches[alias]  # builds the backend, which imports its client; connects lazily
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pass  # activating a language loads its catalogs into Django's process cache
    names = project_template_names()
    for name in names:
        get_template(name)
    return len(names)


def project_template_names():
    """The names (relative paths, "posts/feed.html") of the templates in the folders of
    settings.TEMPLATES' DIRS, sorted."""
    names = set()
    for backend in settings.TEMPLATES:
        for folder in map(Path, backend.get("DIRS", [])):
            names.update(
                path.relative_to(folder).as_posix()
                for path in folder.rglob("*")
                if path.suffix in TEMPLATE_SUFFIXES and path.is_file()
            )
    return sorted(names)


# MariaDB's (and MySQL's) "access denied" errors: for the account (ER_ACCESS_DENIED_ERROR)
# and for the database (ER_DBACCESS_DENIED_ERROR), https://mariadb.com/kb/en/mariadb-error-codes/
ACCESS_DENIED = (1044, 1045)


def check_database_credentials(connection=default_connection):
    """Connect once to the database and close the connection again (a preloading master
    must hand none to its workers). Raises ImproperlyConfigured when the server refuses
    the configured account or database (ACCESS_DENIED): a server given a password the
    database does not take then stops at start, so a rolling update sees its new task fail
    and rolls back, where it used to answer /healthz while every page failed. A database
    that does not answer (it may be starting; connect_timeout 3 s) is left to the
    requests. Nothing to check on SQLite."""
    if connection.vendor != "mysql":
        return
    try:
        connection.ensure_connection()
    except OperationalError as error:
        code = error.args[0] if error.args else None
        if code in ACCESS_DENIED:
            raise ImproperlyConfigured(
                f"the database refuses this server's credentials: {error}"
            ) from None
    finally:
        connection.close()
