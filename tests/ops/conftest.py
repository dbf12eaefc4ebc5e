"""The operations drills as stack tests: one drill stack (own compose project, free
port and subnet, raised rate limits) shared by drills 4, 1 and 7, in that order, with
a few seconds of load per phase. Without a Docker engine they skip; with CI=true that
is a failure (tests/stack's rule)."""

from types import SimpleNamespace

import pytest

from tests.stack.conftest import require_docker

RESULTS = []


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.section("operations drills (shortened load)")
        for text in RESULTS:
            for line in text.splitlines():
                terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def ops_stack():
    require_docker()
    from drills.common import new_stack

    stack = new_stack("ci")
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def drill_args():
    return SimpleNamespace(short=True, keep=False, record=False)
