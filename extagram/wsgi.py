import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
application = get_wsgi_application()

# Load the URLconf, and with it every view module, now rather than at the first request
# (reverse() imports it and builds its lookup tables): a server that loads this module
# before forking its workers (gunicorn's preload_app, the app image's default) then shares
# all of that with every worker instead of each worker building its own copy (measured on
# the app image: docs/performance.md, "Memory of the app tier").
reverse("healthz")
