"""What `extagram-ops status` says about versions: the deployed one, the one `rollback`
would go to, or why there is none (never a bare "previous -"), on Compose (the state
file) and on a swarm (the engine's previous spec), also after a refused deploy."""

from types import SimpleNamespace

import pytest

from extagram_ops import cli, rollout
from extagram_ops.docker import OpsError
from extagram_ops.state import State
from tests.ops.test_rollout import _stack


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(rollout.time, "sleep", lambda s: None)


def test_compose_status_names_the_version_rollback_goes_back_to():
    line = cli.versions_line({"current": "v2", "previous": "v1"}, "v2")
    assert line == "deployed v2 (previous v1: `rollback` goes back to it)"


def test_compose_status_says_why_there_is_no_previous_version():
    # the first recorded deploy was of the version already running
    line = cli.versions_line({"current": "v1", "previous": None}, "v1")
    assert line == (
        "deployed v1 (no earlier version recorded: `rollback` has nothing to go back to)"
    )
    assert "-" not in line.replace("`", "")


def test_compose_status_says_when_app_runs_another_version():
    line = cli.versions_line({"current": "v2", "previous": "v1"}, "v3")
    assert line.endswith("; app runs v3!")
    assert cli.versions_line({}, "v1") == "app runs v1 (no deploy recorded by extagram-ops yet)"


def test_compose_status_after_a_refused_deploy_says_it_failed_and_what_runs(
    tmp_path, monkeypatch, capsys
):
    project = _stack(tmp_path, monkeypatch, "v1", broken={("upload", "v2")})
    State("p").record("deploy", "v1", "v0")
    with pytest.raises(OpsError, match="failed and was undone"):
        cli.roll_to(project, "v2", 5, "deploy")
    project.stats = lambda containers: {}
    assert cli.cmd_status(project, SimpleNamespace(json=False)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "project p: deployed v1 (previous v0: `rollback` goes back to it)"
    assert out[1].startswith("  note: the last deploy (of v2, 20")
    assert out[1].endswith(") failed and was undone: every tier runs what it ran before")


def app(version="v1", previous="v0", update="completed"):
    """A row of SwarmStack.status() for the app service."""
    return {"service": "app", "version": version, "previous": previous, "update": update}


@pytest.mark.parametrize(
    ("row", "line"),
    [
        (app(), "app runs v1 (previous v0: `rollback` goes back to it)"),
        # the engine rolled a refused deploy back by itself: it keeps no previous spec
        (
            app(previous=None, update="rollback_completed"),
            "app runs v1 (its last update was rolled back by the engine, which then keeps no "
            "earlier version: `rollback` has nothing to go back to; `deploy VERSION` changes "
            "it)",
        ),
        # `extagram-ops rollback` (docker service rollback) swaps the two specs
        (app(previous="v2", update="rollback_completed"), "app runs v1 (rolled back from v2)"),
        (
            app(previous=None, update=None),
            "app runs v1 (no earlier version: not updated since it was created)",
        ),
        (
            app(previous="v1"),
            "app runs v1 (its previous spec runs v1 too: the last change was not a new version)",
        ),
    ],
)
def test_swarm_status_says_what_the_engine_can_go_back_to(row, line):
    assert cli.swarm_versions_line(row) == line


def test_swarm_status_after_a_refused_deploy_says_the_engine_rolled_it_back(capsys):
    services = [
        {
            **app(previous=None, update="rollback_completed"),
            "mode": "replicated",
            "desired": 2,
            "running": 2,
            "completed": 0,
            "update_message": "rollback completed",
            "nodes": ["n1"],
        }
    ]
    stack = SimpleNamespace(stack="s", status=lambda: {"stack": "s", "services": services})
    assert cli.swarm_status(stack, SimpleNamespace(json=False)) == 0
    out = capsys.readouterr().out
    assert out.startswith("swarm stack s: app runs v1 (its last update was rolled back by")
    assert "(previous -)" not in out
    assert "note: app's last update was rolled back: rollback completed" in out
