"""Run code in a fresh interpreter right after `import extagram.wsgi`: what loading the WSGI
module (as a preloading gunicorn master does) leaves in a process."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def after_loading_the_wsgi_module(code, data_dir, role="app", **env):
    """The last line `code` printed, run in a new Python process after `import
    extagram.wsgi` (settings from the environment, EXTAGRAM_DATA_DIR=`data_dir`,
    EXTAGRAM_ROLE=`role`, plus `env`). Raises AssertionError, with the end of stderr, if
    the process fails."""
    environ = {**os.environ, "EXTAGRAM_DATA_DIR": str(data_dir), "EXTAGRAM_ROLE": role, **env}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", f"import extagram.wsgi\n{code}"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]
