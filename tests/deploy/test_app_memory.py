"""The app tier's memory: log-ins on many threads give their Argon2 memory back (the
image's MALLOC_MMAP_THRESHOLD_), the gunicorn master freezes what it loaded before it
forks, and loading the WSGI module loads every view (so a preloading master shares them).

Why: with gunicorn's 4 threads, a worker kept ~48 MiB after a hundred log-ins and was
OOM-killed in the 128 MB app container under signed-in load (docs/performance.md,
"Memory of the app tier")."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

from extagram.testing.wsgi import after_loading_the_wsgi_module

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "app" / "Dockerfile"
CONF = REPO / "deploy" / "app" / "gunicorn.conf.py"

# Four threads (the app service's GUNICORN_THREADS) verifying a password with the project's
# hasher at the same moment, as log-ins arriving together do, three times over; prints the
# growth of the process's RSS and of its peak RSS (VmHWM), in MiB.
LOG_INS = """
import threading
from django.conf import settings
settings.configure()
from extagram.accounts.hashers import Argon2idHasher

def mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024

hasher = Argon2idHasher()
encoded = hasher.encode("a password", hasher.salt())
together = threading.Barrier(4)

def log_in():
    together.wait()
    hasher.verify("a password", encoded)

before = mib("VmRSS:"), mib("VmHWM:")
for _ in range(3):
    threads = [threading.Thread(target=log_in) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(mib("VmRSS:") - before[0], mib("VmHWM:") - before[1])
"""


def image_env(name):
    """The value the app image's Dockerfile gives the environment variable `name`."""
    match = re.search(rf"^\s*{name}=(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, f"{name} is not set in {DOCKERFILE}"
    return match.group(1)


def growth_after_log_ins(**env):
    """(RSS growth, peak RSS growth) in MiB of LOG_INS run with `env` (no other MALLOC_*)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    result = subprocess.run(
        [sys.executable, "-c", LOG_INS],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    kept, peak = map(float, result.stdout.split())
    return kept, peak


def test_log_ins_on_four_threads_give_their_memory_back_in_the_app_image():
    threshold = image_env("MALLOC_MMAP_THRESHOLD_")
    # one Argon2 hash is 12 MiB (accounts/hashers.py): less than one stays behind
    kept, _ = growth_after_log_ins(MALLOC_MMAP_THRESHOLD_=threshold)
    assert kept < 6


def test_log_ins_arriving_together_hold_one_hash_worth_of_memory_at_a_time():
    # each hash is 12 MiB: four at once peaked 36 MiB over (eight log-ins at a time after
    # some browsing got the 128 MB app containers' workers OOM-killed)
    threshold = image_env("MALLOC_MMAP_THRESHOLD_")
    _, peak = growth_after_log_ins(MALLOC_MMAP_THRESHOLD_=threshold)
    assert peak < 20


def test_without_the_setting_each_thread_keeps_a_hash_worth_of_memory():
    # the behaviour the image's setting exists for (glibc's dynamic mmap threshold): if
    # this stops holding, the setting may no longer be needed
    kept, _ = growth_after_log_ins()
    assert kept > 24


def test_the_master_freezes_what_it_loaded_before_forking_a_worker():
    import gc

    conf = runpy.run_path(str(CONF))
    gc.unfreeze()
    try:
        conf["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_loading_the_wsgi_module_loads_every_view(tmp_path):
    code = (
        "import sys; "
        "print(all(m in sys.modules for m in "
        "('extagram.posts.views', 'extagram.social.views', 'extagram.accounts.views')))"
    )
    assert after_loading_the_wsgi_module(code, tmp_path) == "True"


def modules_after_loading_the_wsgi_module(tmp_path, role, modules):
    code = f"import sys; print([m in sys.modules for m in {modules!r}])"
    return after_loading_the_wsgi_module(code, tmp_path, role=role)


def test_the_app_role_does_not_load_the_photo_pipeline(tmp_path):
    # libvips and Pillow: ~3.5 MiB more per app container, idle (docs/performance.md)
    loaded = modules_after_loading_the_wsgi_module(tmp_path, "app", ("pyvips", "PIL"))
    assert loaded == "[False, False]"


def test_the_upload_role_loads_the_photo_pipeline_before_any_upload(tmp_path):
    loaded = modules_after_loading_the_wsgi_module(tmp_path, "upload", ("pyvips", "PIL"))
    assert loaded == "[True, True]"
