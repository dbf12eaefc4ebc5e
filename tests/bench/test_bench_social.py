"""`python -m bench --shape social` (case 10: the social pages signed in as many members).

Never timed. The wrk script's session rotation is checked against a tiny local HTTP
server (which cookies arrive), the issue-12 goal lines against made-up rows, and the
whole case end to end, with --quick, against its own compose stack (stack-marked: skips
without a Docker engine or wrk unless CI=true, as the other stack tests).
"""

import http.server
import shutil
import threading
from pathlib import Path

from bench import wrk
from bench.report import SOCIAL_EXPLORE, SOCIAL_HOME, Report
from bench.run import SOCIAL_MEMBERS, SOCIAL_PAGES, parse_args
from tests.stack.conftest import unavailable

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
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Cookie"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sessions = tuple({"sessionid": f"s{i}", "csrftoken": f"t{i}"} for i in range(5))
        load = wrk.Load(f"http://127.0.0.1:{server.server_port}/", sessions=sessions)
        result = wrk.run(load, 1, threads=2, connections=2)
    finally:
        server.shutdown()
        server.server_close()
    assert result.errors == 0
    assert set(seen) == {f"sessionid=s{i}; csrftoken=t{i}" for i in range(5)}
