"""The load driver (bench/loadgen.py) against a live server, and its loopback guard."""

import json
import socket
import time

import pytest

from bench import loadgen
from bench.loadgen import LoadDriver, TargetRefused, check_target, parse_mix

MIX = "feed=3,post=2,profile=2,like=2,comment=2,upload=2,photo=2"


@pytest.fixture
def live_site(live_server, monkeypatch):
    """The live server's URL; on in-memory SQLite, one request at a time on the server side.

    The in-process live server hands every request thread the test's in-memory SQLite
    database, which refuses concurrent transactions ("database table is locked") -- a
    limit of the test harness, not of the site (file SQLite under gunicorn, and MariaDB,
    take concurrent writes). The driver's users stay concurrent: their requests queue.
    """
    import threading

    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        lock = threading.Lock()
        handle = WSGIHandler.__call__

        def one_at_a_time(self, environ, start_response):
            with lock:
                return handle(self, environ, start_response)

        monkeypatch.setattr(WSGIHandler, "__call__", one_at_a_time)
    return live_server.url


@pytest.mark.django_db(transaction=True)
def test_a_short_run_exercises_every_kind_without_errors(live_site, tmp_path):
    from django.contrib.auth import get_user_model

    from extagram.posts.models import Comment, Like, Post

    driver = LoadDriver(
        live_site, users=2, mix=MIX, duration=6, max_requests=400, phase="before", seed=1
    ).start()
    time.sleep(2)
    driver.mark("during")
    time.sleep(2)
    driver.mark("after")
    assert driver.wait(timeout=30), "the driver did not stop by itself"
    summary = driver.stop()
    print(summary.report())  # shown with pytest -s or on failure

    assert summary.stop_reason in ("duration", "max-requests")
    assert summary.errors == 0, summary.report()
    assert summary.rate_limited == 0
    assert 0 < summary.total <= 400
    counts = summary.by_kind()
    for kind in loadgen.MIX_KINDS:
        assert counts.get(kind, 0) > 0, f"{kind} was never sent: {counts}"
    assert counts["signup"] == 2

    # Real outcomes: the users, posts, likes and comments are in the database.
    assert get_user_model().objects.filter(username__startswith="lg_").count() == 2
    acknowledged = [u.post_id for u in summary.uploads]
    assert len(acknowledged) == counts["upload"]
    assert None not in acknowledged
    # each acknowledged when its answer came, after its request started: the drills' "acked
    # before the backup / the kill" compare this (a slow upload's start is not its commit)
    for upload, record in zip(summary.uploads, summary.select(kind="upload"), strict=True):
        assert upload.acked_t == record.t + record.latency_ms / 1000 > upload.t == record.t
    assert Post.objects.filter(pk__in=acknowledged).count() == len(set(acknowledged))
    assert Comment.objects.count() == counts["comment"]
    assert Like.objects.count() <= counts["like"]  # a second like on a post unlikes it

    # Percentiles are ordered, overall and per kind.
    for kind in [None, *summary.kinds]:
        p = summary.percentiles(kind=kind)
        assert 0 < p["p50"] <= p["p95"] <= p["p99"]

    # The marks split the records: each phase holds exactly the requests started in it.
    assert summary.phases == ["before", "during", "after"]
    (_, t_during), (_, t_after) = summary.marks[1:]
    for phase, low, high in [
        ("before", 0, t_during),
        ("during", t_during, t_after),
        ("after", t_after, float("inf")),
    ]:
        records = summary.select(phase=phase)
        assert records, f"no request in phase {phase}"
        assert all(low <= r.t < high for r in records)
    assert sum(len(summary.select(phase=p)) for p in summary.phases) == summary.total

    table = summary.table()
    assert table.splitlines()[0].split()[:4] == ["phase", "kind", "count", "errors"]
    assert any(line.startswith("during") and " upload " in line for line in table.splitlines())
    assert summary.table(fmt="markdown").startswith("| phase | kind |")

    out = tmp_path / "run.json"
    summary.write_json(out)
    data = json.loads(out.read_text())
    assert len(data["records"]) == summary.total
    assert [u["post_id"] for u in data["uploads"]] == acknowledged
    assert data["summary"]["errors"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_user_whose_session_is_lost_logs_in_again(live_site):
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    driver = LoadDriver(
        live_site, users=1, mix="feed=1,like=3,upload=1", duration=30, max_requests=300, seed=2
    ).start()
    deadline = time.monotonic() + 10
    while not driver.progress()["requests"] > 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    Session.objects.all().delete()
    cache.clear()
    driver.mark("signed out")
    time.sleep(3)
    summary = driver.stop()
    logins = summary.select(kind="login", phase="signed out")
    assert logins and logins[0].outcome == "ok", summary.report()
    assert summary.by_kind()["signup"] == 1
    after = [r for r in summary.select(kind="like") if r.t > logins[0].t]
    assert after and all(r.outcome == "ok" for r in after), summary.report()


@pytest.mark.django_db(transaction=True)
def test_the_cli_stops_at_max_requests_and_writes_json(live_site, tmp_path, capsys):
    out = tmp_path / "cli.json"
    argv = ["--base-url", live_site, "--users", "2", "--mix", "feed=1,post=1"]
    argv += ["--duration", "20", "--max-requests", "25", "--progress", "0", "--json", str(out)]
    assert loadgen.main(argv) == 0
    printed = capsys.readouterr().out
    assert "25 requests" in printed and "stopped: max-requests" in printed
    data = json.loads(out.read_text())
    assert len(data["records"]) == 25
    assert data["summary"]["errors"] == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.ratelimit
def test_a_429_is_counted_as_rate_limited_not_as_an_error(live_site, settings):
    # UPLOAD_RATE (30/m by default) per user: one user uploading 2 x limit + 3 times in a
    # few seconds is refused at least once, wherever the limiter's window boundary falls.
    count, _, per = settings.UPLOAD_RATE.partition("/")
    limit = int(count)
    assert limit <= 100 and per[-1:] in ("m", "h", "d"), f"UPLOAD_RATE={settings.UPLOAD_RATE}"
    uploads = 2 * limit + 3
    summary = LoadDriver(
        live_site, users=1, mix="upload=1", duration=60, max_requests=uploads + 2
    ).run()
    assert summary.by_kind() == {"upload": uploads, "signup_form": 1, "signup": 1}
    limited = summary.rate_limited_by_kind()
    assert set(limited) == {"upload"} and limited["upload"] >= 1
    assert summary.errors == 0, summary.report()
    assert len(summary.uploads) == uploads - limited["upload"]
    assert "Rate limited (429, not counted as errors): upload x" in summary.report()


# ---------------------------------------------------------------- the loopback guard


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to connect or resolve fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket.socket, "connect_ex", forbidden)
    monkeypatch.setattr(socket, "getaddrinfo", forbidden)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3:8080",
        "http://192.168.1.10/",
        "https://[2001:db8::1]:8443",
        "http://0.0.0.0:8000",
        "http://[::ffff:10.0.0.1]:80",
        "ftp://127.0.0.1/",
    ],
)
def test_a_non_loopback_base_url_is_refused_without_traffic(no_network, url):
    with pytest.raises(TargetRefused):
        LoadDriver(url)


def test_the_cli_refuses_a_non_loopback_base_url_with_status_2(no_network, capsys):
    assert loadgen.main(["--base-url", "http://10.1.2.3:8080", "--progress", "0"]) == 2
    error = capsys.readouterr().err
    assert "10.1.2.3 is not a loopback address" in error
    assert "--allow-host 10.1.2.3" in error


def test_loopback_literals_are_accepted_without_traffic(no_network):
    assert check_target("http://127.0.0.1:8080") == [(socket.AF_INET, ("127.0.0.1", 8080))]
    assert check_target("http://127.9.9.9") == [(socket.AF_INET, ("127.9.9.9", 80))]
    assert check_target("https://[::1]:8443/") == [(socket.AF_INET6, ("::1", 8443, 0, 0))]
    LoadDriver("http://127.0.0.1:8000")  # constructed, never started


def fake_resolver(*addresses):
    def resolve(host, port, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return resolve


def test_a_host_name_must_resolve_only_to_loopback(no_network):
    pinned = check_target("http://localhost:8000", resolve=fake_resolver("127.0.0.1", "::1"))
    assert [sockaddr[0] for _family, sockaddr in pinned] == ["127.0.0.1", "::1"]
    with pytest.raises(TargetRefused, match="resolves to 203.0.113.7"):
        check_target("http://example.test", resolve=fake_resolver("203.0.113.7"))
    with pytest.raises(TargetRefused, match="not a loopback"):
        check_target("http://sneaky.test", resolve=fake_resolver("127.0.0.1", "203.0.113.7"))


def test_allow_host_lets_a_named_container_host_through_without_resolving(no_network):
    assert check_target("http://proxy:8080", allow_hosts=["proxy"]) is None
    driver = LoadDriver("http://10.1.2.3:8080", allow_hosts=["10.1.2.3"])
    assert driver.addresses is None
    with pytest.raises(TargetRefused):
        LoadDriver("http://10.1.2.4:8080", allow_hosts=["10.1.2.3"])


def test_options_are_validated():
    assert parse_mix("feed=1,upload=2") == {
        "feed": 1.0,
        "post": 0.0,
        "profile": 0.0,
        "like": 0.0,
        "comment": 0.0,
        "upload": 2.0,
        "photo": 0.0,
    }
    for bad in ["feed", "feed=x", "dance=1", "feed=0", "feed=-1"]:
        with pytest.raises(ValueError):
            parse_mix(bad)
    for kwargs in [{"users": 0}, {"duration": 0}, {"max_requests": 0}, {"rate": -1}]:
        with pytest.raises(ValueError):
            LoadDriver("http://127.0.0.1:8000", **kwargs)
    assert loadgen.parse_phases("before=10,during,after=5") == [
        ("before", 10.0),
        ("during", None),
        ("after", 5.0),
    ]


def test_percentiles_are_nearest_rank():
    values = sorted(float(v) for v in range(1, 101))
    assert loadgen.percentile(values, 50) == 50
    assert loadgen.percentile(values, 95) == 95
    assert loadgen.percentile(values, 99) == 99
    assert loadgen.percentile([7.0], 99) == 7.0
    assert loadgen.percentile([], 50) is None


@pytest.mark.django_db(transaction=True)
def test_connections_go_only_to_the_vetted_addresses(live_site, settings):
    # The name resolves nowhere for real: the run works only if the driver connects to the
    # address check_target vetted rather than resolving the name again.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "loadgen-test.invalid"]
    port = int(live_site.rsplit(":", 1)[1])
    summary = LoadDriver(
        f"http://loadgen-test.invalid:{port}",
        users=1,
        mix="feed=1",
        duration=10,
        max_requests=5,
        resolve=fake_resolver("127.0.0.1"),
    ).run()
    assert summary.total == 5
    assert summary.errors == 0, summary.report()
