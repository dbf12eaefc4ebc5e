"""Drills 4 (kill -9 an app replica), 1 (rolling deploy, and one that never gets
healthy) and 7 (backup under load, destroy, restore into a new stack) on one stack."""

import json
import subprocess
import sys

import pytest

from drills import backup_restore, kill_replica, rolling_deploy
from drills.common import REPO, V2, Result
from extagram_ops.docker import LONG_RUNNING
from tests.ops.conftest import RESULTS

pytestmark = pytest.mark.stack


def _finish(result):
    RESULTS.append(result.text())
    assert result.ok, result.text()


def test_drill_kill_replica(ops_stack, drill_args):
    result = Result("kill_replica", kill_replica.TITLE, ".venv/bin/pytest -m stack tests/ops")
    kill_replica.run_on(ops_stack, result, drill_args)
    _finish(result)


def test_drill_rolling_deploy(ops_stack, drill_args):
    result = Result("rolling_deploy", rolling_deploy.TITLE, ".venv/bin/pytest -m stack tests/ops")
    rolling_deploy.run_on(ops_stack, result, drill_args)
    _finish(result)


def test_status_counts_only_the_stacks_own_containers(ops_stack):
    """A container made from the stack's app image (it carries the image's compose
    project label) is not a replica."""
    project = ops_stack.ops
    image = project.one("app").image
    stray = project.docker("run", "-d", "--rm", "--network", "none", image, "sleep", "60")
    try:
        result, _took = ops_stack.ops_cli("status", "--json")
        services = {s["service"]: s for s in json.loads(result.stdout)["services"]}
        assert services["app"]["replicas"] == 2, services["app"]
        assert services["upload"]["replicas"] == 1, services["upload"]
    finally:
        project.docker("rm", "-f", stray.stdout.strip(), check=False)


def test_a_command_with_another_front_subnet_is_refused_before_anything_changes(ops_stack):
    """Compose removes a network whose subnet the settings changed, to make it again: it
    stopped the app replicas, took them off it and failed on the others' endpoints (503s
    until recreated). The CLI refuses first and says which setting."""
    project = ops_stack.ops
    before = {c.id for c in project.containers() if c.service in LONG_RUNNING}
    env = {**ops_stack.env, "EXTAGRAM_FRONT_SUBNET": "198.19.99.0/24"}
    for args in (["scale", "app=3"], ["manage", "check"]):
        command = [sys.executable, "-m", "extagram_ops.cli", "-p", ops_stack.project, *args]
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        assert result.returncode == 1, result.stderr
        assert "front network" in result.stderr and "198.19.99.0/24" in result.stderr
    assert {c.id for c in project.containers() if c.service in LONG_RUNNING} == before
    wanted = project.networks_by_service()
    for c in project.containers():
        assert set(wanted[c.service]) <= set(c.networks), c.name
    assert ops_stack.get("/healthz")[0] == 200


def test_status_names_a_container_cut_off_its_network(ops_stack):
    """Healthy by its own check and unreachable: status says so and exits 1."""
    project = ops_stack.ops
    media, front = project.one("media"), project.network("front")
    endpoint = media.networks[front]
    project.docker("network", "disconnect", front, media.id)
    try:
        result, _took = ops_stack.ops_cli("status", check=False)
        assert result.returncode == 1
        assert f"! {media.name}: not on {front}" in result.stdout
    finally:
        aliases = {"media", media.name, *(endpoint.get("Aliases") or [])}
        options = [arg for alias in sorted(aliases) for arg in ("--alias", alias)]
        ip = ["--ip", endpoint["IPAddress"]]  # the proxy may still hold its address
        project.docker("network", "connect", *options, *ip, front, media.id)
    result, _took = ops_stack.ops_cli("status")
    assert result.returncode == 0


def test_a_plain_compose_up_after_a_deploy_keeps_the_deployed_version(ops_stack):
    """After the rolling deploy (drill-v2): `docker compose up -d`, reading the env file
    the CLI wrote (the stack's environment still says drill-v1 for the images), recreates
    nothing, and the app tier still serves drill-v2."""
    project = ops_stack.ops

    def serving():
        return {c.id for c in project.containers() if c.service in LONG_RUNNING}

    before = serving()
    assert {v for v, _ in ops_stack.served(4)} == {V2}
    assert "EXTAGRAM_APP_VERSION" not in ops_stack.env
    ops_stack.compose("up", "-d")  # reads the stack's env file, where the CLI wrote
    assert serving() == before
    assert {v for v, _ in ops_stack.served(4)} == {V2}


def test_drill_backup_restore(ops_stack, drill_args, tmp_path):
    """Last: it destroys the shared stack (and restores into a new one)."""
    result = Result("backup_restore", backup_restore.TITLE, ".venv/bin/pytest -m stack tests/ops")
    backup_restore.run_on(ops_stack, result, drill_args, tmp_path / "backup")
    _finish(result)
