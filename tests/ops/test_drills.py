"""Drills 4 (kill -9 an app replica), 1 (rolling deploy, and one that never gets
healthy) and 7 (backup under load, destroy, restore into a new stack) on one stack."""

import pytest

from drills import backup_restore, kill_replica, rolling_deploy
from drills.common import Result
from tests.ops.conftest import RESULTS

pytestmark = pytest.mark.stack


def _finish(result):
    RESULTS.append(result.text())
    assert result.ok, result.text()


def test_drill_kill_replica(ops_stack, drill_args):
    result = Result("kill_replica", kill_replica.TITLE, "pytest -m stack tests/ops")
    kill_replica.run_on(ops_stack, result, drill_args)
    _finish(result)


def test_drill_rolling_deploy(ops_stack, drill_args):
    result = Result("rolling_deploy", rolling_deploy.TITLE, "pytest -m stack tests/ops")
    rolling_deploy.run_on(ops_stack, result, drill_args)
    _finish(result)


def test_drill_backup_restore(ops_stack, drill_args, tmp_path):
    """Last: it destroys the shared stack (and restores into a new one)."""
    result = Result("backup_restore", backup_restore.TITLE, "pytest -m stack tests/ops")
    backup_restore.run_on(ops_stack, result, drill_args, tmp_path / "backup")
    _finish(result)
