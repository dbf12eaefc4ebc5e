"""bench.wrk.wait_until_drained: the bench waits for what a finished load left queued
before it starts the next one. Checked against a tiny local HTTP server whose answers are
slow for a while (a queue still draining), never timed against a real stack."""

import time

import pytest

from bench import wrk
from tests.bench.recorder import recording_server


@pytest.fixture
def server():
    with recording_server() as (url, seen):
        yield url, seen


def test_it_waits_until_the_answers_come_fast_again(server):
    url, seen = server
    seen.delay = 0.2
    seen.slow_until = time.monotonic() + 0.6
    waited = wrk.wait_until_drained(f"{url}/healthz")
    assert waited >= 0.6
    assert len(seen.paths) >= wrk.DRAIN_QUIET_PROBES + 1
    assert set(seen.paths) == {"/healthz"}


def test_a_quiet_stack_costs_only_the_probes(server):
    url, seen = server
    wrk.wait_until_drained(f"{url}/healthz")
    assert len(seen.paths) == wrk.DRAIN_QUIET_PROBES


def test_it_gives_up_after_its_timeout_and_lets_the_bench_go_on(server):
    url, seen = server
    seen.delay = 0.1
    seen.slow_until = time.monotonic() + 60
    waited = wrk.wait_until_drained(f"{url}/", timeout=0.5)
    assert 0.5 <= waited < 5


def test_it_sends_the_host_header_it_is_given(server):
    url, seen = server
    wrk.wait_until_drained(f"{url}/healthz", {"Host": "127.0.0.1:8080"})
    assert set(seen.header("Host")) == {"127.0.0.1:8080"}


def test_it_refuses_an_address_that_is_not_this_machines():
    with pytest.raises(ValueError):
        wrk.wait_until_drained("http://192.0.2.10/healthz")
