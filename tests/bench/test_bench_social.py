"""`python -m bench --shape social` (case 10: the social pages signed in as many members).

Never timed. The wrk script's session rotation is checked against a tiny local HTTP
server (which cookies arrive), the issue-12 goal lines against made-up rows, and the
whole case end to end, with --quick, against its own compose stack (stack-marked: skips
without a Docker engine or wrk unless CI=true, as the other stack tests).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import wrk
from bench.report import SOCIAL_EXPLORE, SOCIAL_HOME, Report
from bench.run import SOCIAL_MEMBERS, SOCIAL_PAGES, parse_args
from tests.bench.recorder import recording_server
from tests.stack.conftest import require_docker, unavailable

REPO = Path(__file__).resolve().parents[2]


def _result(rps):
    return wrk.Result(
        requests=int(rps * 2),
        seconds=2.0,
        rps=rps,
        p50_ms=4.0,
        p90_ms=8.0,
        p99_ms=12.0,
        max_ms=20.0,
        mean_ms=5.0,
        errors=0,
        error_detail={},
        bytes=1000,
        command="wrk",
    )


def test_social_shape_is_an_option_and_case_10_is_in_the_default_cases():
    args = parse_args(["--shape", "social", "--quick"])
    assert args.shape == "social" and 10 in args.cases


def test_the_social_goal_lines_compare_home_across_sizes_and_with_explore():
    report = Report()
    report.add(10, SOCIAL_HOME, _result(100.0), posts=100)
    report.add(10, SOCIAL_EXPLORE, _result(90.0), posts=100)
    report.add(10, SOCIAL_HOME, _result(70.0), posts=100_000)
    report.add(10, SOCIAL_EXPLORE, _result(80.0), posts=100_000)
    goals = {goal: (measured, status) for goal, _, measured, status in report.goals()}
    assert goals["home feed at 100,000 posts / at 100: req/s"] == ("70 / 100 = 0.70x", "MISS")
    assert goals["home feed / Explore feed, signed in, at 100 posts: req/s"][1] == "PASS"
    assert goals["home feed / Explore feed, signed in, at 100,000 posts: req/s"][1] == "MISS"
    assert "## Budget" in report.markdown()


def test_a_plain_run_has_no_social_goal_lines():
    report = Report()
    assert not [g for g in report.goals() if "home feed" in g[0]]


def test_the_social_pages_are_the_issues_four_and_explore():
    paths = [path for _, path in SOCIAL_PAGES]
    assert paths[0] == "/" and "/explore/" in paths and "/notifications/" in paths
    assert any(p.startswith("/search/?q=") for p in paths)
    assert any(p.startswith("/tags/") for p in paths)
    assert SOCIAL_MEMBERS >= 100


def test_the_wrk_script_rotates_the_members_sessions():
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (apt-get install wrk)")
    with recording_server() as (url, seen):
        sessions = tuple({"sessionid": f"s{i}", "csrftoken": f"t{i}"} for i in range(5))
        load = wrk.Load(f"{url}/", sessions=sessions)
        result = wrk.run(load, 1, threads=2, connections=2)
    assert result.errors == 0
    assert set(seen.header("Cookie")) == {f"sessionid=s{i}; csrftoken=t{i}" for i in range(5)}


@pytest.mark.stack
def test_quick_social_bench_runs_end_to_end(tmp_path):
    require_docker()
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (apt-get install wrk)")
    args = [sys.executable, "-m", "bench", "--quick", "--shape", "social", "--cases", "10"]
    args += ["--out", str(tmp_path)]
    if os.environ.get("STACK_NO_BUILD"):
        args.append("--no-build")
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    data = json.loads((tmp_path / "results.json").read_text())
    assert "failed" not in data["meta"] and data["meta"]["shape"] == "social"
    rows = [row for row in data["rows"] if row["case"] == 10]
    sizes = sorted({row["posts"] for row in rows})
    assert len(sizes) == 2
    assert {(row["name"], row["posts"]) for row in rows} == {
        (name, n) for name, _ in SOCIAL_PAGES for n in sizes
    }
    for row in rows:
        assert row["errors"] == 0 and row["p50_ms"] > 0, row
    goals = {goal["goal"]: goal["status"] for goal in data["goals"]}
    assert goals[f"home feed at {sizes[1]:,} posts / at {sizes[0]:,}: req/s"] in ("PASS", "MISS")
    assert "## Budget" in result.stdout


def test_the_proxy_log_lines_of_5xx_answers_are_told_apart_from_the_rest():
    from bench.run import APP_ERROR, PROXY_ERROR

    failed = (
        'proxy-1  | 172.20.0.1 [2026-11-30T07:30:25+00:00] "GET /explore/ HTTP/1.1" 503 512 '
        "rt=0.004 urt=0.002, 0.001 up=10.0.1.5:8000, 10.0.1.6:8000 ust=502, 502 "
        'host="127.0.0.1:8080" rid=ab12 ua="wrk"'
    )
    fine = failed.replace('" 503 512', '" 200 5120').replace("ust=502, 502", "ust=200")
    answer = PROXY_ERROR.search(failed)
    assert (answer["status"], answer["upstream"]) == ("503", "502, 502")
    assert PROXY_ERROR.search(fine) is None
    kill = "app-1  | [2026-11-30 07:30:25 +0000] [1] [ERROR] Worker (pid:42) was sent SIGKILL!"
    assert APP_ERROR.search(kill)
    assert not APP_ERROR.search('app-1  | 10.0.1.2 "GET /explore/ HTTP/1.0" 200')


def _round(requests, seconds, p50, p99, errors=None):
    return wrk.Result(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds,
        p50_ms=p50,
        p90_ms=p99 * 0.8,
        p99_ms=p99,
        max_ms=p99 * 1.5,
        mean_ms=p50,
        errors=sum((errors or {}).values()),
        error_detail=errors or {},
        bytes=requests * 1000,
        command="wrk ...",
    )


def test_rounds_of_one_page_combine_into_one_row():
    rounds = [
        _round(200, 2.0, 10, 50),
        _round(100, 2.0, 30, 90, {"timeout": 1}),
        _round(300, 2.0, 20, 40),
    ]
    combined = wrk.combine(rounds)
    assert (combined.requests, combined.seconds, combined.rps) == (600, 6.0, 100.0)
    assert combined.p50_ms == 20  # the median round's
    assert combined.p99_ms == 90  # the worst round's: an upper bound, never understated
    assert combined.errors == 1 and combined.error_detail == {"timeout": 1}
    assert combined.mean_ms == round((200 * 10 + 100 * 30 + 300 * 20) / 600, 3)


def test_case_10_interleaves_the_pages_in_rounds(monkeypatch):
    """Every page gets its share of each round, the order rotating, so home and Explore
    meet the same machine load."""
    from bench import run

    order = []

    def fake_run(load, seconds, **kwargs):
        order.append((load.url, seconds))
        return _round(10, seconds, 5, 9)

    class Member:
        def get(self, path):
            return type("R", (), {"status": 200, "text": "csrfmiddlewaretoken"})()

    bench = run.Bench.__new__(run.Bench)
    bench.p = {"duration": 10, "social_duration": 10}
    bench.sessions = ("sessionid=s0",)
    bench.member_client = Member()
    bench.load_target = lambda path: (f"http://127.0.0.1:1{path}", {})
    rows = []
    bench.report = type("Report", (), {"add": lambda self, *a, **k: rows.append((a, k))})()
    monkeypatch.setattr(run.wrk, "run", fake_run)
    bench.case_social(100)

    pages = [path for _name, path in SOCIAL_PAGES]
    warm_ups, measured = order[: len(pages)], order[len(pages) :]
    assert [url.split(":1", 1)[1] for url, _s in warm_ups] == pages
    assert len(measured) == run.SOCIAL_ROUNDS * len(pages)
    assert {seconds for _url, seconds in measured} == {10 // run.SOCIAL_ROUNDS}
    firsts = [measured[i * len(pages)][0].split(":1", 1)[1] for i in range(run.SOCIAL_ROUNDS)]
    assert firsts == pages[: run.SOCIAL_ROUNDS]  # each round starts with the next page
    assert [a[1] for a, _k in rows] == [name for name, _path in SOCIAL_PAGES]
    assert all(a[2].requests == 10 * run.SOCIAL_ROUNDS for a, _k in rows)
