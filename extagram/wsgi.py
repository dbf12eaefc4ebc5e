import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
application = get_wsgi_application()

# Load now rather than at the first requests what every process would otherwise build
# on its own (the URLconf and every view module, the cache client, the catalogs, the
# templates): a server that loads this module before forking its workers (gunicorn's
# preload_app, the app image's default) then shares all of it with every worker, and a
# worker it replaces does not make its first visitors wait for it (extagram/core/preload.py).
from extagram.core.preload import check_database_credentials, load_shared_state  # noqa: E402

load_shared_state()
check_database_credentials()
