"""Time and memory of one media sweep: `python -m bench.media_sweep [--files 1000,10000]`.

The sweep (StoredFile.objects.sweep) runs inside the upload service's process every
EXTAGRAM_MEDIA_SWEEP_INTERVAL seconds, so what it costs in memory is what that container
must have spare. For each size, on a throw-away SQLite database (or DATABASE_URL's
server, in a database of its own that is dropped afterwards): N photo files shared by
N/2 posts (a large and a small file each, with their StoredFile rows) plus 1 % orphan
files older than the grace period; then one sweep, timed, with the process's peak RSS
reset just before (Linux: /proc/self/clear_refs) and read just after. Rows:

  files      files in storage (N + orphans)
  deleted    orphans the sweep deleted (must equal the orphans)
  seconds    wall-clock time of the sweep
  peak MiB   peak RSS during the sweep minus RSS before it: what the sweep adds to the
             process (0 when it fits in memory the process already had)
  py MiB     peak of the Python memory the sweep allocated (tracemalloc): what it needs
             whatever the process did before

Prints a table; asserts nothing beyond the sweep finding exactly the orphans.
"""

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path


def setup(data_dir):
    os.environ.update(
        EXTAGRAM_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="extagram.settings", LOG_LEVEL="WARNING"
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = f"test_extagram_bench_sweep_{os.getpid()}"


def rss_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def populate(count, orphans, hours_ago):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from extagram.posts.models import Post, StoredFile

    user, _ = get_user_model().objects.get_or_create(username="bench")
    then = time.time() - hours_ago * 3600
    names = []
    for i in range(count + orphans):
        digest = f"{i:064x}"
        name = f"photos/{digest[-2:]}/{digest}.jpg"
        path = settings.MEDIA_ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        os.utime(path, (then, then))
        names.append(name)
    used, left_over = names[:count], names[count:]
    posts = [
        Post(author=user, image_large=large, image_small=small, width=1, height=1, small_width=1)
        for large, small in zip(used[0::2], used[1::2], strict=True)
    ]
    Post.objects.bulk_create(posts, batch_size=1000)
    touched = timezone.now() - timezone.timedelta(hours=hours_ago)
    StoredFile.objects.bulk_create(
        [StoredFile(name=name, touched_at=touched) for name in used], batch_size=1000
    )
    return left_over


def clear_orphans_again(names):
    """Write the swept orphans again, so the traced second sweep does the same work."""
    from django.conf import settings

    then = time.time() - 2 * 3600
    for name in names:
        path = settings.MEDIA_ROOT / name
        path.write_bytes(b"x")
        os.utime(path, (then, then))


def clear():
    import shutil

    from django.conf import settings

    from extagram.posts.models import Post, StoredFile

    Post.objects.all().delete()
    StoredFile.objects.all().delete()
    shutil.rmtree(settings.MEDIA_ROOT / "photos", ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="1000,10000,50000", help="comma-separated sizes")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.files.split(",")]

    with tempfile.TemporaryDirectory() as data_dir:
        setup(data_dir)
        from django.db import connection
        from django.test.utils import setup_databases, teardown_databases

        from extagram.posts.models import StoredFile

        databases = setup_databases(verbosity=0, interactive=False)
        try:
            print(f"database: {connection.vendor}")
            print(
                f"| {'files':>7} | {'deleted':>7} | {'seconds':>7} | {'peak MiB':>8} "
                f"| {'py MiB':>6} |"
            )
            print(f"|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 8}|")
            for size in sizes:
                orphans = populate(size, max(1, size // 100), hours_ago=2)
                before = rss_kib("VmRSS")
                Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM)
                started = time.perf_counter()
                report = StoredFile.objects.sweep(grace=3600)
                seconds = time.perf_counter() - started
                peak = rss_kib("VmHWM") - before
                clear_orphans_again(orphans)
                tracemalloc.start()
                StoredFile.objects.sweep(grace=3600)
                python_peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                if sorted(report["deleted"]) != sorted(orphans):
                    raise SystemExit(f"the sweep deleted {len(report['deleted'])} files")
                files = size + len(orphans)
                print(
                    f"| {files:>7} | {len(report['deleted']):>7} | {seconds:>7.2f} "
                    f"| {peak / 1024:>8.1f} | {python_peak / 2**20:>6.1f} |"
                )
                clear()
        finally:
            teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
