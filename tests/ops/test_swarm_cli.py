"""extagram-ops in swarm mode without an engine: the mode is chosen explicitly, image
references, and the refusals that keep a deploy's promises (the engine itself is driven
in tests/ops/test_swarm_engine.py)."""

import base64
import copy
import itertools
import json
from types import SimpleNamespace

import pytest

from extagram_ops import cli
from extagram_ops.docker import OpsError
from extagram_ops.swarm import (
    SwarmStack,
    constraint_met,
    image_tag,
    one_off_service_args,
    with_tag,
)
from tests.ops.fakes import fake_docker as _fake_docker


def test_image_tag_reads_the_tag_of_any_reference():
    assert image_tag("10.0.0.10:5000/extagram/app:v2@sha256:" + "a" * 64) == "v2"
    assert image_tag("extagram.invalid/app:drill-v1") == "drill-v1"
    assert image_tag("localhost:5000/app") == ""


def test_with_tag_keeps_the_repository_and_drops_the_digest():
    pinned = "10.0.0.10:5000/extagram/app:v1@sha256:" + "b" * 64
    assert with_tag(pinned, "v2") == "10.0.0.10:5000/extagram/app:v2"
    assert with_tag("app:v1", "v2") == "app:v2"
    assert with_tag("localhost:5000/app", "v3") == "localhost:5000/app:v3"


def test_swarm_and_a_compose_project_are_two_modes(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--swarm", "extagram", "-p", "extagram", "status"])
    assert exit_.value.code == 2
    assert "two modes" in capsys.readouterr().err


def test_swarm_mode_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXTAGRAM_OPS_SWARM", "prod")
    assert cli.build_parser().parse_args(["status"]).swarm == "prod"
    monkeypatch.delenv("EXTAGRAM_OPS_SWARM")
    assert cli.build_parser().parse_args(["status"]).swarm is None


def test_swarm_mode_on_an_engine_in_no_swarm_says_so(tmp_path, monkeypatch, capsys):
    _fake_docker(
        tmp_path,
        monkeypatch,
        'case "$3" in *Swarm*) echo \'{"LocalNodeState":"inactive"}\';; *) echo 28.2;; esac\n',
    )
    assert cli.main(["--swarm", "extagram", "status"]) == 1
    assert "in no swarm" in capsys.readouterr().err


def test_swarm_mode_on_a_worker_points_at_a_manager(tmp_path, monkeypatch, capsys):
    _fake_docker(
        tmp_path,
        monkeypatch,
        'case "$3" in *Swarm*) echo \'{"LocalNodeState":"active","ControlAvailable":false}\';;'
        " *) echo 28.2;; esac\n",
    )
    assert cli.main(["--swarm", "extagram", "deploy", "v2"]) == 1
    assert "swarm worker: point DOCKER_HOST at a manager" in capsys.readouterr().err


APP = {
    "Spec": {
        "Name": "s_app",
        "Mode": {"Replicated": {"Replicas": 2}},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "reg/extagram/app:v1@sha256:" + "c" * 64,
                "Healthcheck": {"Test": ["CMD", "/usr/local/bin/extagram-healthcheck"]},
            }
        },
        "UpdateConfig": {"Order": "start-first", "FailureAction": "rollback"},
    },
    "PreviousSpec": {"TaskTemplate": {"ContainerSpec": {"Image": "reg/extagram/app:v0"}}},
    "UpdateStatus": {"State": "completed"},
}


class Canned(SwarmStack):
    """A SwarmStack whose services are given, and which records every docker call
    instead of making it."""

    def __init__(self, tmp_path, services):
        super().__init__("s", tmp_path, env={})
        self.canned = services
        self.calls = []

    def service(self, short):
        return copy.deepcopy(self.canned.get(short))

    def docker(self, *args, **kwargs):
        self.calls.append(args)
        raise AssertionError(f"unexpected docker call {args}")


def _service(**changes):
    service = copy.deepcopy(APP)
    for path, value in changes.items():
        node = service
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return service


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Spec.UpdateConfig.Order": "stop-first"}, "not start-first"),
        ({"Spec.UpdateConfig.FailureAction": "pause"}, "not rollback"),
        ({"Spec.TaskTemplate.ContainerSpec.Healthcheck": {"Test": ["NONE"]}}, "healthcheck"),
        ({"UpdateStatus": {"State": "updating"}}, "already updating"),
    ],
)
def test_deploy_refuses_a_service_whose_spec_breaks_its_promises(tmp_path, change, message):
    stack = Canned(tmp_path, {"app": _service(**change), "upload": _service(), "static": _static()})
    with pytest.raises(OpsError, match=message):
        stack.deploy("v2", timeout=5)
    assert stack.calls == []  # nothing was changed


def _static(version="v1"):
    return _service(**{"Spec.TaskTemplate.ContainerSpec.Image": f"reg/extagram/static:{version}"})


class Rolling(Canned):
    """A Canned stack that records the rolling updates asked of the engine."""

    def update(self, short, args, timeout, what):
        self.calls.append((short, *args))


def test_deploy_of_what_runs_changes_nothing(tmp_path):
    stack = Canned(tmp_path, {"app": _service(), "upload": _service(), "static": _static()})
    assert stack.deploy("v1", timeout=5) == "v1"
    assert stack.calls == []


def test_deploy_brings_a_static_tier_left_behind_to_the_version_app_runs(tmp_path):
    # a release's CSS changed, and static still ran the version the stack was made with
    stack = Rolling(tmp_path, {"app": _service(), "upload": _service(), "static": _static("v0")})
    assert stack.deploy("v1", timeout=5) == "v1"
    assert stack.calls == [("static", "--image", "reg/extagram/static:v1", "--no-resolve-image")]


def test_a_stack_without_a_static_service_is_refused_before_anything_changes(tmp_path):
    stack = Rolling(tmp_path, {"app": _service(), "upload": _service()})
    with pytest.raises(OpsError, match="no service 's_static'"):
        stack.deploy("v2", timeout=5)
    assert stack.calls == []


def test_rollback_after_the_engine_rolled_back_refuses(tmp_path):
    """The engine's own rollback leaves no previous spec, and after `docker service
    rollback` the previous spec is the version it left: going "back" would deploy it."""
    rolled = _service(UpdateStatus={"State": "rollback_completed"})
    stack = Canned(tmp_path, {"app": rolled, "upload": rolled})
    with pytest.raises(OpsError, match="already rolled back"):
        stack.rollback(timeout=5)
    assert stack.calls == []


def test_rollback_without_a_previous_spec_refuses(tmp_path):
    fresh = _service(PreviousSpec=None)
    stack = Canned(tmp_path, {"app": fresh, "upload": fresh})
    with pytest.raises(OpsError, match="no previous version"):
        stack.rollback(timeout=5)


def test_deploy_with_build_is_refused_in_swarm_mode(tmp_path):
    args = cli.build_parser().parse_args(["--swarm", "s", "deploy", "--build", "v2"])
    with pytest.raises(OpsError, match="build and push"):
        cli.swarm_deploy(Canned(tmp_path, {}), args)


def test_rollback_after_a_scale_refuses_rather_than_undo_the_scale(tmp_path):
    """The engine keeps one previous spec: after `scale` it differs only in replicas."""
    scaled = _service(PreviousSpec=copy.deepcopy(APP["Spec"]), UpdateStatus=None)
    stack = Canned(tmp_path, {"app": scaled, "upload": _service()})
    with pytest.raises(OpsError, match="not a deploy"):
        stack.rollback(timeout=5)
    assert stack.calls == []


def _node(labels=None, state="ready", availability="active", role="worker", hostname="n1"):
    return {
        "ID": hostname + "id",
        "Description": {"Hostname": hostname},
        "Spec": {"Labels": labels or {}, "Role": role, "Availability": availability},
        "Status": {"State": state},
    }


class CannedNodes(Canned):
    def __init__(self, tmp_path, services, nodes):
        super().__init__(tmp_path, services)
        self.canned_nodes = nodes

    def nodes(self):
        return self.canned_nodes


def _placed(replicas, per_node):
    return _service(
        **{
            "Spec.Mode": {"Replicated": {"Replicas": replicas}},
            "Spec.TaskTemplate.Placement": {
                "MaxReplicas": per_node,
                "Constraints": ["node.labels.extagram.app==true"],
            },
        }
    )


ONE_NODE = [_node({"extagram.app": "true", "extagram.db": "true"}, role="manager")]


def test_deploy_refuses_when_a_start_first_update_has_no_room_for_its_new_task(tmp_path):
    """Measured on a one-node swarm (docs/swarm.md): app at 3 replicas, at most 3 per
    node: the new task stayed pending ("max replicas per node limit exceed") and the
    update never ended, after the migrate job had already run."""
    stack = CannedNodes(tmp_path, {"app": _placed(3, 3), "upload": _service()}, ONE_NODE)
    with pytest.raises(OpsError, match="start-first update needs 4 tasks at once.*fit 3"):
        stack.deploy("v2", timeout=5)
    assert stack.calls == []  # nothing was changed, the migrate job included


def test_a_start_first_update_with_room_for_one_more_task_is_not_refused(tmp_path):
    stack = CannedNodes(tmp_path, {"app": _placed(2, 3)}, ONE_NODE)
    stack.check_update_config("app", stack.service("app"))


def test_scale_beyond_what_the_nodes_can_hold_is_refused_before_anything_changes(tmp_path):
    nodes = [
        *ONE_NODE,
        _node({"extagram.app": "true"}, availability="drain", hostname="n2"),
        _node({"extagram.app": "true"}, state="down", hostname="n3"),
        _node({"extagram.edge": "true"}, hostname="n4"),
    ]
    stack = CannedNodes(tmp_path, {"app": _placed(2, 3)}, nodes)
    with pytest.raises(OpsError, match="scale to 4 needs 4 tasks.*3 per node on 1 eligible"):
        stack.scale(4, timeout=5)
    assert stack.calls == []


def test_constraints_are_read_as_docker_writes_them():
    node = _node({"extagram.app": "true"}, role="manager", hostname="h1")
    assert constraint_met(node, "node.labels.extagram.app==true")
    assert constraint_met(node, "node.labels.extagram.app == true")
    assert not constraint_met(node, "node.labels.extagram.db==true")
    assert constraint_met(node, "node.labels.extagram.db!=true")
    assert constraint_met(node, "node.role==manager")
    assert not constraint_met(node, "node.hostname!=h1")
    assert constraint_met(node, "node.platform.os==windows")  # not read: never refuses


def test_rollback_refuses_when_its_start_first_tasks_have_no_room(tmp_path):
    full = _placed(3, 3)
    full["Spec"]["RollbackConfig"] = {"Order": "start-first", "Parallelism": 1}
    stack = CannedNodes(tmp_path, {"app": full, "upload": _service()}, ONE_NODE)
    with pytest.raises(OpsError, match="start-first rollback needs 4 tasks"):
        stack.rollback(timeout=5)
    assert stack.calls == []


# The migrate job's Spec.TaskTemplate as `docker service inspect` gives it (Docker 20.10).
MIGRATE_TEMPLATE = {
    "ContainerSpec": {
        "Image": "10.0.0.10:5000/extagram/app:v2@sha256:" + "c" * 64,
        "Args": ["python", "manage.py", "migrate", "--noinput"],
        "Env": ["DB_HOST=db", "SECRET_KEY_FILE=/run/secrets/secret_key"],
        "ReadOnly": True,
        "Mounts": [
            {
                "Type": "tmpfs",
                "Target": "/tmp",
                "TmpfsOptions": {"SizeBytes": 16777216, "Mode": 1023},
            }
        ],
        "Secrets": [
            {
                "File": {"Name": "secret_key", "UID": "10001", "GID": "10001", "Mode": 256},
                "SecretID": "x1",
                "SecretName": "prod_secret_key",
            }
        ],
        "CapabilityDrop": ["ALL"],
    },
    "Resources": {
        "Limits": {"NanoCPUs": 1000000000, "MemoryBytes": 201326592, "Pids": 64},
        "Reservations": {"NanoCPUs": 100000000, "MemoryBytes": 100663296},
    },
    "RestartPolicy": {"Condition": "on-failure", "Delay": 5000000000, "MaxAttempts": 20},
    "Networks": [{"Target": "net123", "Aliases": ["migrate"]}],
    "LogDriver": {"Name": "json-file", "Options": {"max-file": "3", "max-size": "10m"}},
}


def test_a_one_off_task_is_made_as_the_migrate_jobs_tasks_are():
    args = one_off_service_args(MIGRATE_TEMPLATE, "prod_manage-1", "prod", "node9")
    pairs = list(itertools.pairwise(args))
    for pair in [
        ("--name", "prod_manage-1"),
        ("--mode", "replicated-job"),
        ("--restart-condition", "none"),
        ("--constraint", "node.id==node9"),
        ("--container-label", "com.docker.stack.namespace=prod"),
        ("--env", "DB_HOST=db"),
        ("--env", "SECRET_KEY_FILE=/run/secrets/secret_key"),
        ("--secret", "source=prod_secret_key,target=secret_key,uid=10001,gid=10001,mode=0400"),
        ("--mount", "type=tmpfs,destination=/tmp,tmpfs-size=16777216,tmpfs-mode=1777"),
        ("--network", "net123"),
        ("--cap-drop", "ALL"),
        ("--limit-memory", "201326592"),
        ("--limit-cpu", "1"),
        ("--limit-pids", "64"),
        ("--log-opt", "max-size=10m"),
    ]:
        assert pair in pairs, pair
    assert "--read-only" in args
    # the image and the command are the caller's; the migrate job's own are not copied
    assert not any("manage.py" in a or "sha256" in a for a in args)


def test_a_stack_file_that_would_take_deployed_services_back_is_warned_of(tmp_path):
    # after `deploy v1`, a file rendered again from the first variables named v0: deployed
    # with `docker stack deploy`, it took app and upload back to v0 without a word
    stack = Canned(tmp_path, {"app": _service(), "upload": _service(), "static": _static()})
    text = json.dumps(
        {
            "services": {
                "app": {"image": "reg/extagram/app:v0"},
                "upload": {"image": "reg/extagram/app:v1"},
                "static": {"image": "reg/extagram/static:v0"},
                "db": {"image": "mariadb:11.8"},
            }
        }
    )
    warnings = stack.versions_left_behind(text)
    assert [line.split(" runs")[0] for line in warnings] == ["warning: s_app", "warning: s_static"]
    assert "EXTAGRAM_VERSION=v1" in warnings[0]
    assert stack.versions_left_behind(text.replace(":v0", ":v1")) == []


class Locked(Canned):
    """A stack whose lock another run holds."""

    def docker(self, *args, **kwargs):
        self.calls.append(args)
        if args[:2] == ("config", "create"):
            return SimpleNamespace(returncode=1, stderr="Error: config already exists")
        if args[:2] == ("config", "inspect"):
            held = base64.b64encode(b"extagram-ops deploy, since 2026-12-04 20:00:00 UTC").decode()
            return SimpleNamespace(returncode=0, stdout=json.dumps(held))
        raise AssertionError(f"unexpected docker call {args}")


def test_a_change_while_another_runs_is_refused_naming_it(tmp_path):
    stack = Locked(tmp_path, {"app": _service()})
    refused = pytest.raises(OpsError, match="another operation is changing 's'")
    with refused as raised, stack.lock("scale"):
        raise AssertionError("ran under another's lock")
    assert "extagram-ops deploy, since 2026-12-04" in str(raised.value)
    assert "docker config rm s_extagram-ops-lock" in str(raised.value)
    assert not [call for call in stack.calls if call[:2] == ("config", "rm")]


class Unlocked(Canned):
    def docker(self, *args, **kwargs):
        self.calls.append(args)
        return SimpleNamespace(returncode=0, stdout="", stderr="")


def test_the_lock_is_given_back_when_the_operation_fails(tmp_path):
    stack = Unlocked(tmp_path, {"app": _service()})
    with pytest.raises(OpsError), stack.lock("deploy"):
        raise OpsError("the engine rolled it back")
    assert [call[:2] for call in stack.calls] == [("config", "create"), ("config", "rm")]


class Waiting(Canned):
    """upload's start-first update needs a task the nodes have no room for."""

    def services(self):
        return {"upload": _service(**{"Spec.Name": "s_upload"})}

    def node_names(self):
        return {"n1": "node1"}

    def docker(self, *args, **kwargs):
        self.calls.append(args)
        if args[:2] == ("config", "inspect"):  # the lock: held only when `held` says so
            held = getattr(self, "held", None)
            data = json.dumps(base64.b64encode(held.encode()).decode()) if held else ""
            return SimpleNamespace(returncode=0 if held else 1, stdout=data)
        raise AssertionError(f"unexpected docker call {args}")

    def tasks(self, short):
        running = {"DesiredState": "running", "NodeID": "n1", "Status": {"State": "running"}}
        stuck = {
            "DesiredState": "running",
            "Status": {
                "State": "pending",
                "Err": "no suitable node (max replicas per node limit exceed)",
            },
        }
        return [running, running, stuck]


def test_status_fails_when_a_task_waits_for_a_node_it_cannot_get(tmp_path, capsys):
    stack = Waiting(tmp_path, {})
    assert cli.swarm_status(stack, SimpleNamespace(json=False)) == 1
    out = capsys.readouterr().out
    assert "! upload: a task waits for a node: no suitable node (max replicas" in out


def test_status_names_the_holder_of_a_lock_a_killed_run_left(tmp_path, capsys):
    stack = Waiting(tmp_path, {})
    stack.held = "`extagram-ops --swarm s rotate-secret db_password`, since 2026-12-04 21:07"
    cli.swarm_status(stack, SimpleNamespace(json=False))
    out = capsys.readouterr().out
    assert "note: the lock for changes is held by `extagram-ops --swarm s rotate-secret" in out
    assert "`docker config rm s_extagram-ops-lock`" in out


def test_a_change_finished_exits_0_when_its_reader_has_left(tmp_path, monkeypatch):
    def closed(*args, **kwargs):
        raise BrokenPipeError

    monkeypatch.setattr("builtins.print", closed)
    monkeypatch.setattr(cli.os, "dup2", lambda *args: None)
    stack = SimpleNamespace(stack="s", scale=lambda replicas, timeout: 2)
    assert cli.swarm_scale(stack, SimpleNamespace(target=("app", 3), timeout=60)) == 0
