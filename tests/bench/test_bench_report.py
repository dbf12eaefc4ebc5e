# ruff: noqa: E501 -- verbatim tool output
"""The bench's pieces that need no stack: wrk scripts and results, the PHP anchor's
table, the budget (no timing is asserted anywhere)."""

import textwrap

import pytest

from bench import php, wrk
from bench.report import FLOOR, Report
from bench.run import parse_args

WRK_OUT = """Running 2s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
BENCH_JSON {"requests":5000,"duration_us":2000000,"bytes":1000,"p50_us":4000,"p90_us":9000,"p99_us":15000,"max_us":30000,"mean_us":5000.0,"connect":0,"read":0,"write":0,"status":3,"timeout":0,"bad":0}
"""


def test_wrk_result_is_read_from_the_json_line():
    result = wrk.parse(WRK_OUT)
    assert result.rps == 2500.0
    assert (result.p50_ms, result.p99_ms) == (4.0, 15.0)
    assert result.errors == 3
    assert result.error_detail == {"status": 3}
    with pytest.raises(RuntimeError):
        wrk.parse("no line here")


def test_lua_script_carries_cookies_body_and_checks():
    load = wrk.Load(
        "http://127.0.0.1:8080/upload/",
        method="POST",
        cookies={"sessionid": "abc", "csrftoken": "def"},
        headers={"Origin": "http://127.0.0.1:8080"},
        body_file="/tmp/body",
        expect_post_redirect=True,
        delay_ms=20,
    )
    script = load.script()
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Cookie"] = "sessionid=abc; csrftoken=def"' in script
    assert "io.open(\"/tmp/body\", 'rb')" in script
    assert "function delay() return 20 end" in script
    assert "function response(" in script and "BENCH_JSON" in script
    assert "function response(" not in wrk.Load("http://127.0.0.1:1/").script()


def test_wrk_refuses_targets_that_are_not_this_machine():
    with pytest.raises(ValueError):
        wrk.start(wrk.Load("http://192.0.2.1/"), 1)


def test_php_anchor_results_are_parsed(tmp_path):
    (tmp_path / "table.md").write_text(
        textwrap.dedent(
            """\
            | case | N posts | bytes/page | req/s | p50 ms | p99 ms | errors | RSS sum MiB | PSS sum MiB |
            |---|---|---|---|---|---|---|---|---|
            | php-N20-run1 | 20 | 3478 | 1789.07 | 16.14 | 36.45 | 0 | 237.7 | 123.8 |
            | static-N20-size | (static) | 3478 | 29158.71 | 0.85 | 7.05 | 0 | 237.7 | 123.8 |
            | php-N20-run2 | 20 | 3478 | 1488.19 | 21.23 | 38.25 | 0 | 237.8 | 125.0 |
            | php-N10000 | 10000 | 1560358 | 43.37 | 718.03 | 986.07 |   Socket errors: connect 0, read 2, write 0, timeout 0  | 250.4 | 136.4 |
            """
        )
    )
    (tmp_path / "upload-summary.txt").write_text(
        "uploads: 50 sequential curl POSTs of a 515916-byte JPEG (redirect not followed)\n"
        "http 302: 50\nmean ms (curl time_total): 4.80\n"
        "p50 ms: 4.44  p99 ms: 10.73  min ms: 2.95  max ms: 11.63\n"
    )
    (tmp_path / "mem-summary.txt").write_text("idle (RSS_MiB PSS_MiB): 208.7 120.2\n")
    parsed = php.parse(tmp_path)
    rows = {r["tag"]: r for r in parsed["rows"]}
    assert rows["php-N20-run1"]["rps"] == 1789.07
    assert rows["static-N20-size"]["posts"] is None
    assert rows["php-N10000"]["errors"] == 2
    assert parsed["uploads"] == {
        "p50_ms": 4.44,
        "p99_ms": 10.73,
        "count": 50,
        "jpeg_bytes": 515916,
        "errors": 0,
    }
    assert parsed["memory"]["idle"] == {"rss_mib": 208.7, "pss_mib": 120.2}

    report = Report()
    report.php = parsed
    assert report.php_row(20)["rps"] == 1789.07  # the better of the two runs


def wrk_result(rps, p50, p99, errors=0):
    """A wrk.Result of 10 s at `rps` requests/s, p50 and p99 in ms (shared with
    test_full_page_load)."""
    return wrk.Result(
        requests=int(rps * 10),
        seconds=10.0,
        rps=rps,
        p50_ms=p50,
        p90_ms=p99,
        p99_ms=p99,
        max_ms=p99,
        mean_ms=p50,
        errors=errors,
        error_detail={},
        bytes=0,
        command="wrk",
    )


def test_budget_marks_pass_and_miss():
    report = Report()
    report.php = {
        "rows": [
            {
                "tag": "php-N20-run1",
                "posts": 20,
                "rps": 1000.0,
                "p50_ms": 10.0,
                "p99_ms": 30.0,
                "page_bytes": 1,
                "errors": 0,
                "rss_mib": 1,
                "pss_mib": 1,
            }
        ],
        "uploads": {},
        "memory": {},
    }
    report.add(1, "feed, signed out", wrk_result(4000.0, 2.0, 20.0), posts=100)
    report.add(1, "feed, signed out", wrk_result(3500.0, 2.0, 20.0), posts=100_000)
    report.add(2, "feed, signed in", wrk_result(500.0, 50.0, 90.0), posts=100)
    report.add(2, "feed, signed in", wrk_result(300.0, 80.0, 150.0), posts=100_000)
    report.add(2, FLOOR, wrk_result(800.0, 5.0, 40.0))
    report.memory = {"idle": {"app-1": 100.0, "db-1": 150.0}, "after_load": {"app-1": 500.0}}
    report.startup = {"first": {"up_returned_s": 20.0, "healthy_s": 30.0}}
    report.images = {"app": 180.0, "proxy": 100.0, "nginx base": 97.0}
    measured = {g: m for g, _, m, _ in report.goals()}
    assert (
        "Django's floor, a view that reads nothing: 800 = 0.80x"
        in (measured["signed-in feed at 100 posts vs PHP at 20: req/s"])
    )
    assert measured["proxy image (nginx)"] == "100 MB (base image 97 MB + ours 3.0 MB)"
    goals = {g: s for g, _, _, s in report.goals()}
    assert goals["signed-out feed at 100 posts vs PHP at 20: req/s"] == "PASS"
    assert goals["signed-out feed at 100 posts vs PHP at 20: p99"] == "PASS"
    assert goals["signed-in feed at 100 posts vs PHP at 20: req/s"] == "MISS"
    assert goals["growth, signed-out feed: req/s at 100,000 / at 100 posts"] == "PASS"
    assert goals["growth, signed-in feed: req/s at 100,000 / at 100 posts"] == "MISS"
    assert goals["memory, whole stack, idle"] == "PASS"
    assert goals["memory, whole stack, after the load"] == "MISS"
    assert goals["first start to all healthy"] == "PASS"
    assert goals["warm restart to all healthy"] == "n/a"
    assert goals["app image"] == "PASS" and goals["proxy image (nginx)"] == "MISS"
    text = report.markdown()
    assert "| 1 | feed, signed out | 100 | 4,000.0 |" in text
    assert "**MISS**" in text and "Ours / theirs" in text
    assert "| container | idle | after load |" in text  # no page cache read: no such column


def _signed_in_goals(feed_rps, floor_rps):
    report = Report()
    report.add(2, "feed, signed in", wrk_result(feed_rps, 50.0, 90.0), posts=100)
    report.add(2, "feed, signed in", wrk_result(feed_rps * 0.9, 50.0, 90.0), posts=100_000)
    if floor_rps is not None:
        report.add(2, FLOOR, wrk_result(floor_rps, 5.0, 40.0))
    return {g: (t, m, s) for g, t, m, s in report.goals()}


def test_the_budget_reads_the_signed_in_feed_against_the_issues_178_and_the_floor():
    goals = _signed_in_goals(900.0, 1700.0)
    assert goals["signed-in feed at 100 posts vs 178 req/s (issue 13's table)"] == (
        ">= 5x (890 req/s)",
        "900 = 5.06x",
        "PASS",
    )
    assert goals["signed-in feed at 100 posts / Django's floor: req/s"] == (
        ">= 0.5",
        "900 / 1,700 = 0.53",
        "PASS",
    )
    goals = _signed_in_goals(166.0, 340.5)
    assert goals["signed-in feed at 100 posts vs 178 req/s (issue 13's table)"][1:] == (
        "166 = 0.93x",
        "MISS",
    )
    assert goals["signed-in feed at 100 posts / Django's floor: req/s"][1:] == (
        "166 / 340 = 0.49",
        "MISS",
    )


def test_without_a_floor_row_the_floor_share_is_not_measured():
    goals = _signed_in_goals(900.0, None)
    assert goals["signed-in feed / Django's floor"][1:] == ("not measured", "n/a")
    assert goals["signed-in feed at 100 posts vs 178 req/s (issue 13's table)"][2] == "PASS"
    assert {g: s for g, _, _, s in Report().goals()}["signed-in feed vs 178 req/s"] == "n/a"


def test_the_memory_table_shows_the_page_cache_beside_each_reading():
    report = Report()
    report.memory = {"idle": {"app-1": 60.0, "db-1": 90.0}, "after_load": {"app-1": 80.0}}
    report.page_cache = {"idle": {"app-1": 0.5, "db-1": 25.0}, "after_load": {}}
    text = report.markdown()
    assert "| container | idle | idle: of it page cache | after load |" in text
    assert "| db-1 | 90.0 | 25.0 | – |" in text
    assert "| **total** | **150.0** | **25.5** | **80.0** |" in text
    assert report.as_dict()["page_cache_mib"]["idle"]["db-1"] == 25.0


def test_a_run_with_no_idle_request_reports_the_isolation_goal_as_not_measured():
    report = Report()
    report.add(6, "feed signed in, paced, idle", wrk_result(0.0, 0.0, 0.0), posts=100)
    report.add(6, "feed signed in, paced, during uploads", wrk_result(10.0, 20.0, 40.0), posts=100)
    goals = {g: m for g, _, m, _ in report.goals()}
    assert goals["feed p99 during uploads / idle"] == "not measured"
    report.markdown()


def test_a_load_that_completed_no_request_is_a_miss_not_a_pass():
    report = Report()
    report.bare = {"12 MP": {"runs": 3, "p50_ms": 3678.0, "p99_ms": 3900.0, "mean_ms": 3700.0}}
    report.add(5, "upload 12 MP, sequential", wrk_result(0.0, 0.0, 0.0))
    report.add(1, "feed, signed out", wrk_result(4000.0, 2.0, 20.0), posts=100)
    goals = {g: (m, s) for g, _, m, s in report.goals()}
    assert goals["12-MP upload / bare pipeline"] == ("not measured", "n/a")
    measured, status = goals["every load completed requests"]
    assert status == "MISS" and "upload 12 MP, sequential (-): 0" in measured

    report.rows = [row for row in report.rows if row.case != 5]
    assert report.goals()[0][3] == "PASS"


def test_options():
    args = parse_args(["--quick", "--cases", "1,2,9", "--no-php", "--sizes", "100,10_000"])
    assert args.quick and args.cases == [1, 2] and args.sizes == [100, 10000]
