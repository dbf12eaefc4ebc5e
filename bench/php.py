"""Case 9: the classic PHP design (its run.sh, in the folder EXTAGRAM_PHP_ANCHOR names), as it is.

The PHP design is the comparison point of docs/performance.md, not part of this
repository: without EXTAGRAM_PHP_ANCHOR the bench skips case 9 and says so.

The anchor starts nginx + PHP-FPM + MariaDB itself on 127.0.0.1 (ports 18080, 13306),
loads its page with wrk (-t2 -c32, the same parameters as our feed cases) at each size,
times sequential 500 KB uploads with curl, measures its servers' memory, and stops what
it started. We read its table.md and upload-summary.txt.
"""

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

NEEDS = ("nginx", "mariadbd", "mariadb-install-db", "mariadb", "wrk", "curl", "php")
PORTS = (18080, 13306)


def anchor_dir():
    """The PHP design's folder (with run.sh), from EXTAGRAM_PHP_ANCHOR; None if unset."""
    folder = os.environ.get("EXTAGRAM_PHP_ANCHOR")
    return Path(folder) if folder else None


def missing():
    """Why the PHP design cannot run here (None when it can)."""
    if anchor_dir() is None:
        return "EXTAGRAM_PHP_ANCHOR is not set (the classic PHP design is not in this repository)"
    run_sh = anchor_dir() / "run.sh"
    if not run_sh.is_file():
        return f"no {run_sh}"
    absent = [tool for tool in NEEDS if shutil.which(tool) is None]
    if not any(Path("/usr/sbin").glob("php-fpm*")) and shutil.which("php-fpm8.2") is None:
        absent.append("php-fpm")
    if absent:
        return (
            "missing " + ", ".join(absent) + " (apt-get install nginx php-fpm php-mysql "
            "mariadb-server wrk curl)"
        )
    if os.geteuid() != 0:
        return "run.sh needs root (it hands its folders to the mysql and www-data users)"
    for port in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"127.0.0.1:{port} is in use (another anchor run?)"
    return None


def _num(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def parse(out_dir):
    """{"rows": [...], "uploads": {...}, "machine": str} from a run.sh results folder."""
    out_dir = Path(out_dir)
    rows = []
    for line in (out_dir / "table.md").read_text().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 9:
            continue
        tag, n, page_bytes, rps, p50, p99, errors, rss, pss = cells[:9]
        rows.append(
            {
                "tag": tag,
                "posts": int(n) if n.isdigit() else None,
                "page_bytes": int(page_bytes) if page_bytes.isdigit() else None,
                "rps": _num(rps),
                "p50_ms": _num(p50),
                "p99_ms": _num(p99),
                "errors": 0 if errors == "0" else _count_errors(errors),
                "error_text": "" if errors == "0" else errors,
                "rss_mib": _num(rss),
                "pss_mib": _num(pss),
            }
        )
    uploads = {}
    summary = out_dir / "upload-summary.txt"
    if summary.is_file():
        text = summary.read_text()
        m = re.search(r"p50 ms: ([\d.]+)\s+p99 ms: ([\d.]+)", text)
        if m:
            uploads = {"p50_ms": float(m.group(1)), "p99_ms": float(m.group(2))}
        m = re.search(r"(\d+) sequential curl POSTs of a (\d+)-byte", text)
        if m:
            uploads.update(count=int(m.group(1)), jpeg_bytes=int(m.group(2)))
        codes = re.findall(r"http (\d+): (\d+)", text)
        uploads["errors"] = sum(int(n) for code, n in codes if code != "302")
    memory = {}
    mem = out_dir / "mem-summary.txt"
    if mem.is_file():
        for line in mem.read_text().splitlines():
            m = re.match(r"(.+?) \(RSS_MiB PSS_MiB\): ([\d.]+) ([\d.]+)", line)
            if m:
                memory[m.group(1)] = {"rss_mib": float(m.group(2)), "pss_mib": float(m.group(3))}
    machine = (out_dir / "machine.txt").read_text() if (out_dir / "machine.txt").is_file() else ""
    return {"rows": rows, "uploads": uploads, "memory": memory, "machine": machine}


def _count_errors(text):
    return sum(int(n) for n in re.findall(r"(\d+)", text)) or 1


def run(out_dir, sizes, duration, uploads, log):
    """Run the anchor; return parse(out_dir). Raises on failure."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        SIZES=" ".join(str(n) for n in sizes),
        DURATION=f"{duration}s",
        UPLOADS=str(uploads),
        OUT=str(out_dir),
    )
    log(f"PHP design: bash run.sh (SIZES='{env['SIZES']}' DURATION={duration}s UPLOADS={uploads})")
    with open(out_dir / "run.log", "w") as logfile:
        result = subprocess.run(
            ["bash", str(anchor_dir() / "run.sh")],
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            timeout=1800,
        )
    if result.returncode != 0:
        tail = (out_dir / "run.log").read_text()[-2000:]
        raise RuntimeError(f"run.sh failed ({result.returncode}):\n{tail}")
    return parse(out_dir)
