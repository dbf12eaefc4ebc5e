"""How much memory and time one upload may use, derived from the upload service's limits.

The memory pool of a process (bytes) is

    pool = (limit - workers x BASELINE) x (1 - MARGIN) / workers - waiting x 2 x UPLOAD_MAX

where `limit` is the container's memory limit (cgroup v2 `memory.max`, or v1
`memory.limit_in_bytes`), or EXTAGRAM_UPLOAD_MEMORY_LIMIT_MB where there is none (the
embedded default, a plain host); `workers` is WEB_CONCURRENCY (gunicorn's processes, each
with its own pool); BASELINE is what an idle worker holds (measured: the upload
container, gunicorn's master and one worker sharing their pages, idles at 78 MiB with
libvips loaded; MARGIN's 10 % covers the master's own part, docs/performance.md).
Every upload reserves its estimated peak (images.plan_for) from the pool before decoding
and gives it back after:
the threads of a worker (GUNICORN_THREADS) share the pool, so however many uploads run at
once, their decodes together stay within it. One upload may use the whole pool; an upload
whose estimate exceeds it is refused with a message.

An upload waiting for room already holds its file twice, outside the pool: as the request
brought it (spooled to the container's /tmp, a tmpfs) and as read to plan its decode. So
under a container's limit, which the kernel enforces by killing the worker, the pool
leaves room for `waiting` = GUNICORN_THREADS - 1 such files of the upload limit
(EXTAGRAM_UPLOAD_MAX_MB) beside the one decode that may fill it; see waiting_threads().

At the compose defaults (288 MiB, 1 worker, 2 threads, 10-MB uploads) the pool is 174 MiB:
enough for the heaviest normal photo, a 12-MP AVIF (~159 MiB reserved, its WebP
variants' encoder and its file held twice included), a phone's 24-MP HEIC (~155 MiB), or
two 12-MP JPEGs at once (~66 MiB each); see NORMAL_*_BYTES and `check()`, which runs at
start-up.
"""

import ctypes
import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

MIB = 1024 * 1024
BASELINE = 72 * MIB
MARGIN = 0.1
CGROUP_FILES = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)
# A cgroup v1 "no limit" reads as a huge number (PAGE_COUNTER_MAX pages)
NO_LIMIT_ABOVE = 1 << 60
CONTAINER_LIMIT = "container memory limit"


def container_limit():
    """The cgroup memory limit of this container in bytes, or None when there is none."""
    for path in CGROUP_FILES:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text == "max":
            return None
        try:
            value = int(text)
        except ValueError:
            continue
        return value if value < NO_LIMIT_ABOVE else None
    return None


def memory_limit():
    """(bytes, source): the memory this upload service may use, and where that came from."""
    limit = container_limit()
    if limit is not None:
        return limit, CONTAINER_LIMIT
    return settings.UPLOAD_MEMORY_LIMIT_MB * MIB, "EXTAGRAM_UPLOAD_MEMORY_LIMIT_MB"


def workers():
    return max(1, int(os.environ.get("WEB_CONCURRENCY", "1") or 1))


def threads():
    return max(1, int(os.environ.get("GUNICORN_THREADS", "1") or 1))


def waiting_threads(source=CONTAINER_LIMIT):
    """How many uploads of a worker may hold their file while another's decode holds the
    whole pool: all its threads but one under a container's limit (`source` as
    memory_limit() gives it), which the kernel's OOM killer enforces; none under
    EXTAGRAM_UPLOAD_MEMORY_LIMIT_MB, a budget for the decodes of a plain host's process
    whose threads mostly serve pages (`make run` has 8), not a limit anything enforces."""
    return threads() - 1 if source == CONTAINER_LIMIT else 0


def pool_bytes(limit=None, n_workers=None, n_waiting=None):
    """The memory pool of one worker process, in bytes (may be <= 0 when misconfigured).

    limit: bytes (default: memory_limit()); n_workers: processes (default WEB_CONCURRENCY);
    n_waiting: uploads that may wait holding their file, each charged twice the upload
    limit (default: waiting_threads() of the limit's source; an explicit limit is taken as
    a container's)."""
    source = CONTAINER_LIMIT
    if limit is None:
        limit, source = memory_limit()
    n_workers = workers() if n_workers is None else n_workers
    n_waiting = waiting_threads(source) if n_waiting is None else n_waiting
    share = (limit - n_workers * BASELINE) * (1 - MARGIN) / n_workers
    return int(share - n_waiting * 2 * settings.UPLOAD_MAX_BYTES)


def spool_bytes():
    """Size in bytes of the file system Django spools uploads to (FILE_UPLOAD_TEMP_DIR, or
    the temporary directory): in the upload container, a tmpfs of UPLOAD_TMP_SIZE."""
    stat = os.statvfs(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())
    return stat.f_blocks * stat.f_frsize


def cpu_seconds():
    """Wall-clock seconds one photo's decode and resize may take (EXTAGRAM_UPLOAD_SECONDS)."""
    return settings.UPLOAD_SECONDS


class MemoryPool:
    """A counting semaphore in bytes: reserve(n) waits until n bytes are free."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.free = capacity
        self._cond = threading.Condition()

    @contextmanager
    def reserve(self, nbytes, timeout=None):
        """Hold `nbytes` of the pool for the block. Raises images.UnacceptableImage when
        nbytes exceeds the whole pool, or when the pool stays too full for `timeout` s."""
        from .images import UnacceptableImage

        if nbytes > self.capacity:
            raise UnacceptableImage(
                _(
                    "This image needs more memory to process (%(need)s MB) than this server "
                    "can give one photo (%(pool)s MB). Please upload a smaller image."
                )
                # in MB (10^6 bytes), as the message says
                % {"need": -(-nbytes // 10**6), "pool": self.capacity // 10**6}
            )
        timeout = 4 * cpu_seconds() if timeout is None else timeout
        with self._cond:
            if not self._cond.wait_for(lambda: self.free >= nbytes, timeout):
                raise UnacceptableImage(
                    _("The server is busy with other photos. Please try again in a minute.")
                )
            self.free -= nbytes
        try:
            yield
        finally:
            with self._cond:
                self.free += nbytes
                self._cond.notify_all()


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_libc = _glibc()


def release_freed_memory():
    """Give the memory a decode freed back to the system (glibc's malloc_trim): otherwise
    it stays in the allocator's per-thread arenas, and a worker's RSS grows with every
    thread that once held a big photo, outside the pool's accounting. A no-op elsewhere."""
    if _libc is not None:
        _libc.malloc_trim(0)


_pool = None
_pool_lock = threading.Lock()


def memory_pool():
    """This process's MemoryPool, sized by pool_bytes() on first use."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.capacity != _configured_pool():
            _pool = MemoryPool(_configured_pool())
        return _pool


def _configured_pool():
    return max(0, pool_bytes())


# What the pipeline reserves for a normal 12-megapixel photo (4032x3024, as phones take
# them; images.plan_for with its WebP variants, checked by test_bounded_work): a JPEG,
# the kind most uploads are, and the heaviest kind we accept, an AVIF (an 8-bit HEIC needs
# ~100 MiB).
NORMAL_JPEG_BYTES = 66 * MIB
NORMAL_HEAVIEST_BYTES = 159 * MIB


def check():
    """Start-up check of the upload role. Raises ImproperlyConfigured when the workers'
    baselines and waiting uploads leave no pool; logs a warning when the spool cannot hold
    an upload per thread (the one past it would fail writing its body) or when a normal
    12-MP photo would be refused, and says how many 12-MP JPEGs a worker processes at once
    when that is fewer than its threads (the others wait for memory: a queue, not a
    fault). Returns the pool in bytes."""
    limit, source = memory_limit()
    pool = pool_bytes()
    waiting = waiting_threads(source)
    summary = (
        f"upload memory: limit {limit // MIB} MiB ({source}), {workers()} worker(s) x "
        f"{threads()} thread(s); per worker: baseline {BASELINE // MIB} MiB, margin "
        f"{MARGIN:.0%} of the rest, {waiting} waiting upload(s) x "
        f"{2 * settings.UPLOAD_MAX_BYTES // MIB} MiB set aside (twice the upload limit), "
        f"pool {max(pool, 0) // MIB} MiB for decodes"
    )
    if pool <= 0:
        raise ImproperlyConfigured(
            f"{summary}: the workers' baselines and waiting uploads exceed the limit. Raise "
            "UPLOAD_MEM_LIMIT or lower UPLOAD_WORKERS or UPLOAD_THREADS."
        )
    spooled = workers() * threads() * settings.UPLOAD_MAX_BYTES
    if spool_bytes() < spooled:
        log.warning(
            "%s: the uploads' spool holds %s MiB, less than the %s MiB the workers' threads "
            "may spool at once (EXTAGRAM_UPLOAD_MAX_MB each): raise UPLOAD_TMP_SIZE",
            summary,
            spool_bytes() // MIB,
            spooled // MIB,
        )
    if pool < NORMAL_HEAVIEST_BYTES:
        log.warning(
            "%s: a 12-MP AVIF photo needs ~%s MiB and will be refused; raise UPLOAD_MEM_LIMIT",
            summary,
            NORMAL_HEAVIEST_BYTES // MIB,
        )
    elif pool < threads() * NORMAL_JPEG_BYTES:
        log.info(
            "%s: %s 12-MP JPEGs (~%s MiB each) processed at once per worker, more uploads "
            "wait for their turn",
            summary,
            pool // NORMAL_JPEG_BYTES,
            NORMAL_JPEG_BYTES // MIB,
        )
    else:
        log.info(summary)
    return pool
