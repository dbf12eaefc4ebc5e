"""The rollout logic against a fake Docker: what it does to old and new containers."""

import pytest

from extagram_ops import rollout
from extagram_ops.docker import Container, OpsError


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
    """Records docker calls; `compose up --scale` adds containers in `new_health`."""

    def __init__(self, old, new_health="healthy"):
        self.all = list(old)
        self.calls = []
        self.new_health = new_health
        self.name = "p"

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
        service = args[-1]
        total = int(args[args.index("--scale") + 1].split("=")[1])
        have = len(self.containers(service))
        for n in range(have + 1, total + 1):
            self.all.append(
                _container(
                    f"{service}{n}", service, n, env["EXTAGRAM_APP_VERSION"], health=self.new_health
                )
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
    with pytest.raises(OpsError, match="failed their health check"):
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
