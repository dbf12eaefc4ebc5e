"""`python -m bench.uploads --small` runs end to end and prints its tables (never timed).

Tiny inputs of every kind: what is checked is that each kind was measured through each
pipeline, the current pipeline refused the many-scan JPEG and published the rest, and
the 12-MP timing table and its ratio were printed.
"""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_upload_robustness_bench_prints_a_row_per_input_and_pipeline():
    out = subprocess.run(
        [sys.executable, "-m", "bench.uploads", "--small"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ") and " | current | " in line]
    assert len(rows) == 8, out
    scans = next(row for row in rows if "3,000 scans" in row)
    assert "refused: This JPEG has too many progressive scans" in scans
    assert all("| published |" in row for row in rows if row is not scans), out
    assert out.count(" | reference | ") == 8 and out.count(" | pillow floor | ") == 8
    assert "current / reference (p50):" in out
