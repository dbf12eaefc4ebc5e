from django.conf import settings
from django.http import Http404

HEALTH_PATHS = ("/healthz", "/readyz")


def serves(role, path):
    """Whether a process in this role answers this path."""
    if path in HEALTH_PATHS or role == "all":
        return True
    is_upload = path.startswith("/upload/")
    return is_upload if role == "upload" else not is_upload


class RoleMiddleware:
    """EXTAGRAM_ROLE=app serves all but uploads; =upload serves only uploads.

    Every URL stays known to every role, so links and redirects still resolve.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not serves(settings.ROLE, request.path):
            raise Http404
        return self.get_response(request)
