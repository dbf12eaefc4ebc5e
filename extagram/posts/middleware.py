import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from .models import StoredFile

log = logging.getLogger(__name__)

LEASE_KEY = "media-sweep-lease"
ERASURES_LEASE_KEY = "erasure-sweep-lease"


class MediaSweepMiddleware:
    """Run the media sweep (StoredFile.objects.sweep) in the background, periodically,
    and after it finish the account deletions left unfinished for ERASURE_RESUME_AFTER
    seconds (accounts.erasure.erase_pending: a thread that died with its process).

    In the upload role and the embedded default (role `all`), the first request after
    MEDIA_SWEEP_INTERVAL seconds (EXTAGRAM_MEDIA_SWEEP_INTERVAL; 0 turns it off)
    starts one sweep in a thread and returns at once. In the stack the healthcheck
    asks every few seconds, so the sweep runs on time with no extra container or
    process. One sweep at a time per process (a lock), and per site: a sweep first
    takes a lease in the shared cache for the interval (Redis in the stack), so extra
    upload containers or workers do not repeat it. Correctness never depends on this
    guard: every deletion is made under the file's lock (see StoredFile).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.due = 0.0
        self.running = threading.Lock()
        self.thread = None

    def __call__(self, request):
        interval = settings.MEDIA_SWEEP_INTERVAL
        if interval > 0 and settings.ROLE != "app" and time.monotonic() >= self.due:
            self.due = time.monotonic() + interval
            if self.running.acquire(blocking=False):
                self.thread = threading.Thread(
                    target=self._sweep, args=(interval,), name="media-sweep", daemon=True
                )
                self.thread.start()
        return self.get_response(request)

    @staticmethod
    def _finish_erasures():
        from extagram.accounts.erasure import erase_pending

        since = timezone.now() - timedelta(seconds=settings.ERASURE_RESUME_AFTER)
        finished = erase_pending(requested_before=since)
        if finished:
            log.warning("finished %s account deletion(s) left unfinished", finished)

    def _sweep(self, interval):
        try:
            if cache.add(LEASE_KEY, True, timeout=interval):
                started = time.monotonic()
                report = StoredFile.objects.sweep(grace=settings.MEDIA_SWEEP_GRACE)
                log.info(
                    "media sweep: %s stored files and %s file records older than %s s "
                    "checked, %s orphans deleted, %s could not be deleted, in %.2f s",
                    report["files"],
                    report["rows"],
                    settings.MEDIA_SWEEP_GRACE,
                    len(report["deleted"]),
                    len(report["failed"]),
                    time.monotonic() - started,
                )
        except Exception:
            log.exception("media sweep failed; the next one will retry")
        try:
            if cache.add(ERASURES_LEASE_KEY, True, timeout=interval):
                self._finish_erasures()
        except Exception:
            log.exception("finishing account deletions failed; the next sweep will retry")
        finally:
            connections.close_all()
            self.running.release()
