"""`python -m bench.uploads --small` runs end to end and prints its tables (never timed).

Tiny inputs of every kind: what is checked is that each kind was measured through each
pipeline, the current pipeline refused the many-scan JPEG and published the rest, and
the 12-MP timing table and its ratio were printed; then the bytes-per-feed-page table
(issue 13, lighter pages): a row per photo of the page, before (JPEG) and after (WebP),
with their SSIM, and the page's total and goal line.
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
        timeout=600,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ") and " | current | " in line]
    assert len(rows) == 8, out
    scans = next(row for row in rows if "3,000 scans" in row)
    assert "refused: This JPEG has too many progressive scans" in scans
    assert all("| published |" in row for row in rows if row is not scans), out
    assert out.count(" | reference | ") == 8 and out.count(" | pillow floor | ") == 8
    assert "current / reference (p50):" in out
    page = out.split("## Bytes per feed page on a phone", 1)[1]
    photos = [line for line in page.splitlines() if line.startswith("| generated ")]
    photos += [line for line in page.splitlines() if line.startswith("| skimage ")]
    assert len(photos) == 12, page
    assert all("| JPEG " in row and "| WEBP " in row for row in photos), page
    assert "| **page (HTML + 12 photos)** |" in page
    assert "Goal (issue 13, 3): bytes per feed page <= 0.60x:" in page


def test_the_page_bench_picks_from_srcset_as_chromium_does():
    from bench.uploads import pick_from_srcset

    srcset = "s.webp 480w, m.webp 828w, l.webp 1080w"
    assert pick_from_srcset(srcset, css_width=390, dpr=2) == "m.webp"
    assert pick_from_srcset("s.jpg 480w, l.jpg 1080w", css_width=390, dpr=2) == "l.jpg"
    assert pick_from_srcset(srcset, css_width=390, dpr=1) == "s.webp"
    # below the geometric mean of the densities around it: the smaller one
    assert pick_from_srcset("a 400w, b 1600w", css_width=400, dpr=1.9) == "a"
    assert pick_from_srcset(srcset, css_width=390, dpr=3) == "l.webp"
