"""`python -m bench --quick` runs end to end against its own compose stack (never timed).

The numbers of a 2-second load on a tiny dataset mean nothing; what is checked is that
every case ran, wrk saw no errors, the results were written, the budget was printed and
the stack was removed afterwards. Skips without a Docker engine or without wrk (CI=true
makes a missing engine a failure, as for the other stack tests).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack.conftest import require_docker, unavailable

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]


def _require_tools():
    require_docker()
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (apt-get install wrk)")


def test_quick_bench_runs_end_to_end(tmp_path):
    _require_tools()
    args = [sys.executable, "-m", "bench", "--quick", "--no-php", "--out", str(tmp_path)]
    if os.environ.get("STACK_NO_BUILD"):
        args.append("--no-build")
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    data = json.loads((tmp_path / "results.json").read_text())
    assert "failed" not in data["meta"]
    cases = {row["case"] for row in data["rows"]}
    assert cases >= {1, 2, 3, 4, 5, 6}, cases
    for row in data["rows"]:
        assert row["errors"] == 0, row
        assert row["p50_ms"] is not None and row["p50_ms"] > 0, row
    names = {row["name"] for row in data["rows"]}
    assert {
        "feed, signed out",
        "feed, signed out, gzip",
        "feed, signed out, via the loopback port",
        "feed, signed in",
        "Django floor: smallest view, signed in",
        "upload 12 MP, sequential",
    } <= names
    signed_in = [row for row in data["rows"] if row["name"] == "feed, signed in"]
    # everyone's posts: the bench's members follow nobody, so their home feed is near empty
    assert signed_in and all(row["note"].startswith("/explore/ ") for row in signed_in)
    assert data["bare_pipeline"]["12 MP"]["p50_ms"] > 0
    assert {"idle", "after_load"} <= set(data["memory_mib"])
    # the engine runs on this machine: each container's cgroup is readable here
    assert set(data["page_cache_mib"]["idle"]) == set(data["memory_mib"]["idle"])
    assert {"first", "warm"} <= set(data["startup_s"])
    assert set(data["images_mb"]) == {"app", "proxy", "media", "static", "nginx base"}
    statuses = {goal["status"] for goal in data["goals"]}
    assert statuses <= {"PASS", "MISS", "n/a"} and statuses & {"PASS", "MISS"}

    markdown = (tmp_path / "results.md").read_text()
    assert "## Results" in markdown and "## Budget" in markdown
    assert "| 2 | feed, signed in |" in markdown
    assert "## Budget" in result.stdout  # the table is printed too

    project = data["meta"]["project"]
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert left == [], f"bench left containers of {project} behind"
