"""The rollout logic against a fake Docker: what it does to old and new containers, and
what a deploy or rollback that fails halfway leaves running and records."""

from types import SimpleNamespace

import pytest

from extagram_ops import cli, rollout
from extagram_ops.docker import Container, OpsError, Project
from extagram_ops.state import State


def _container(cid, service, number, version, health="healthy", status="running"):
    return Container(
        cid,
        f"p-{service}-{number}",
        service,
        number,
        status,
        health,
        version,
        f"extagram/app:{version}",
        0,
        {},
    )


class FakeProject:
    """Records docker calls; `compose up --scale` adds containers in `new_health`
    ("unhealthy" for a (service, version) in `broken`); enough of Project for roll_to."""

    def __init__(self, old, new_health="healthy", broken=(), env_file=None):
        self.all = list(old)
        self.calls = []
        self.new_health = new_health
        self.broken = set(broken)
        self.name = "p"
        self.env, self.env_file = {}, env_file

    run_migrations = Project.run_migrations  # through compose() below

    def require_stack(self):
        pass

    def networks_by_service(self):
        return {}

    def image(self, repo, version):
        return f"extagram/{repo}:{version}"

    def image_exists(self, ref):
        return True

    def current_version(self, service):
        return ",".join(sorted({c.version for c in self.running(service)})) or None

    def network(self, short):
        return f"p_{short}"

    def containers(self, service=None, all=False):
        return [c for c in self.all if service is None or c.service == service]

    def running(self, service):
        return [c for c in self.containers(service) if c.status == "running"]

    def inspect(self, *ids):
        return [c for c in self.all if c.id in ids]

    def compose(self, *args, env=None, **kwargs):
        self.calls.append(("compose", *args))
        if args[0] == "run":  # the migrations
            return SimpleNamespace(returncode=0, stdout="", stderr="")
        service = args[-1]
        total = int(args[args.index("--scale") + 1].split("=")[1])
        have = len(self.containers(service))
        version = env["EXTAGRAM_APP_VERSION"]
        health = "unhealthy" if (service, version) in self.broken else self.new_health
        for n in range(have + 1, total + 1):
            # numbered past every container ever made, as compose does
            number = max([c.number for c in self.all if c.service == service] + [n - 1]) + 1
            self.all.append(
                _container(f"{service}{number}", service, number, version, health=health)
            )

    def docker(self, *args, **kwargs):
        self.calls.append(args)
        if args[0] == "rm":
            self.all = [c for c in self.all if c.id != args[-1]]
        if args[0] == "stop":
            for c in self.all:
                if c.id == args[-1]:
                    c.status = "exited"

        class R:
            stdout = "[]"
            stderr = ""
            returncode = 0

        return R()


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(rollout.time, "sleep", lambda s: None)


def test_replace_starts_hidden_then_reveals_then_drains():
    project = FakeProject([_container("a1", "app", 1, "v1"), _container("a2", "app", 2, "v1")])
    rollout.replace(project, "app", "v2", timeout=5)
    assert [c.version for c in project.running("app")] == ["v2", "v2"]
    calls = [c for c in project.calls if c[0] in ("network", "start", "stop")]
    first_stop = next(i for i, c in enumerate(calls) if c[0] == "stop")
    reveals = [i for i, c in enumerate(calls) if c[:2] == ("network", "connect") and "app" in c]
    hidden = [c for c in calls if c[:2] == ("network", "connect") and "app" not in c]
    assert len(hidden) == 2  # joined front without the alias first
    assert len(reveals) == 2 and max(reveals) < first_stop  # alias before any old stops


def test_unhealthy_new_version_is_removed_and_old_untouched():
    project = FakeProject([_container("a1", "app", 1, "v1")], new_health="unhealthy")
    with pytest.raises(OpsError, match="1 container failed its health check:"):
        rollout.replace(project, "app", "bad", timeout=5)
    assert [c.id for c in project.running("app")] == ["a1"]
    assert not any(c[0] == "stop" and c[-1] == "a1" for c in project.calls)
    assert not any(c[:2] == ("network", "connect") and "app" in c for c in project.calls)
    assert [c.id for c in project.all] == ["a1"]


def test_new_version_never_healthy_times_out(monkeypatch):
    project = FakeProject([_container("a1", "app", 1, "v1")], new_health="starting")
    clock = iter(range(0, 10_000, 10))
    monkeypatch.setattr(rollout.time, "monotonic", lambda: next(clock))
    with pytest.raises(OpsError, match="not healthy after 30s"):
        rollout.replace(project, "app", "slow", timeout=30)
    assert [c.id for c in project.all] == ["a1"]


def test_scale_down_drains_highest_numbers():
    project = FakeProject([_container(f"a{n}", "app", n, "v1") for n in (1, 2, 3, 4)])
    rollout.scale(project, "app", 2, "v1", timeout=5)
    assert [c.id for c in project.running("app")] == ["a1", "a2"]


def _stack(tmp_path, monkeypatch, version, broken=(), apps=2):
    """A fake stack on `version` (app x `apps`, upload x1), its state file in tmp_path."""
    monkeypatch.setenv("EXTAGRAM_OPS_STATE_DIR", str(tmp_path / "state"))
    old = [_container(f"a{n}", "app", n, version) for n in range(1, apps + 1)]
    old.append(_container("u1", "upload", 1, version))
    return FakeProject(old, broken=broken, env_file=tmp_path / ".env")


def _versions(project, service):
    return sorted(c.version for c in project.running(service))


def test_a_deploy_whose_upload_fails_switches_the_app_tier_back(tmp_path, monkeypatch):
    project = _stack(tmp_path, monkeypatch, "v1", broken={("upload", "v2")})
    State("p").record("deploy", "v1", "v0")
    with pytest.raises(OpsError, match="deploy of v2 failed and was undone") as failure:
        cli.roll_to(project, "v2", 5, "deploy")
    assert "app runs v1, upload runs v1, as before" in str(failure.value)
    assert _versions(project, "app") == ["v1", "v1"] and _versions(project, "upload") == ["v1"]
    # switched back blue-green: the new v1 replicas in the rotation before a v2 one stops
    v2_ids = {"app3", "app4"}  # compose numbers them after a1, a2
    back = [c.id for c in project.running("app")]
    assert not v2_ids & set(back) and not {"a1", "a2"} & set(back)
    reveal = max(
        i for i, c in enumerate(project.calls) if c[:2] == ("network", "connect") and c[-1] in back
    )
    first_v2_stop = min(
        i for i, c in enumerate(project.calls) if c[0] == "stop" and c[-1] in v2_ids
    )
    assert reveal < first_v2_stop
    data = State("p").load()
    assert (data["current"], data["previous"], data.get("incomplete")) == ("v1", "v0", None)
    assert data["history"][-1]["outcome"] == "failed, switched back"
    assert not project.env_file.exists()  # nothing written for Compose


def test_a_tier_that_cannot_be_switched_back_is_recorded_as_it_runs(tmp_path, monkeypatch, capsys):
    project = _stack(tmp_path, monkeypatch, "v1", broken={("upload", "v2"), ("app", "v1")})
    State("p").record("deploy", "v1", "v0")
    with pytest.raises(OpsError, match="could NOT be fully undone: app runs v2, upload runs v1"):
        cli.roll_to(project, "v2", 5, "deploy")
    data = State("p").load()
    assert data["current"] == "v1"  # the last completed deploy
    assert data["incomplete"] == {
        "action": "deploy",
        "version": "v2",
        "tiers": {"app": "v2", "upload": "v1"},
    }
    assert data["history"][-1]["outcome"] == "failed, left mixed"
    assert not project.env_file.exists()
    project.stats = lambda containers: {}
    assert cli.cmd_status(project, SimpleNamespace(json=False)) == 1
    assert "the deploy of v2 did not complete" in capsys.readouterr().out
    # the retry finishes it: app already runs v2 and is left alone
    project.broken.clear()
    project.calls.clear()
    assert cli.roll_to(project, "v2", 5, "deploy") == 0
    assert not any(c[0] == "compose" and c[-1] == "app" for c in project.calls)
    data = State("p").load()
    assert (data["current"], data["previous"], data.get("incomplete")) == ("v2", "v1", None)
    assert "EXTAGRAM_APP_VERSION=v2" in project.env_file.read_text()


def test_a_retried_rollback_after_a_half_failed_one_keeps_the_history(tmp_path, monkeypatch):
    project = _stack(tmp_path, monkeypatch, "t10b", broken={("upload", "t10"), ("app", "t10b")})
    State("p").record("deploy", "t10", "t9")
    State("p").record("deploy", "t10b", "t10")
    args = SimpleNamespace(timeout=5)
    with pytest.raises(OpsError, match="app runs t10, upload runs t10b"):
        cli.cmd_rollback(project, args)
    project.broken.clear()
    assert cli.cmd_rollback(project, args) == 0
    assert _versions(project, "app") == ["t10", "t10"] and _versions(project, "upload") == ["t10"]
    data = State("p").load()
    assert (data["current"], data["previous"]) == ("t10", "t10b")
    assert data["history"][-1]["from"] == "t10b"
    assert [h["version"] for h in data["history"]] == ["t10", "t10b", "t10", "t10"]
