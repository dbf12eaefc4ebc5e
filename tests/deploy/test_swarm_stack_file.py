"""The swarm stack file derived from compose.yaml (extagram_ops.swarm): what swarm needs is
there, what it refuses or silently drops is not, and `docker stack config` accepts it.
No engine needed (the stack itself runs in tests/stack/test_swarm.py)."""

import json
import os
import re

import pytest
import yaml

from extagram_ops.docker import OpsError, docker
from extagram_ops.swarm import images_note, stack_config
from extagram_ops.throwaway import REPO
from tests.stack.conftest import unavailable

LONG_RUNNING = {"proxy", "app", "upload", "media", "static", "db", "cache"}


def docker_missing_compose():
    try:
        return docker("compose", "version", check=False).returncode != 0
    except OpsError:  # no docker command at all
        return True


@pytest.fixture(scope="module")
def stack_file(tmp_path_factory):
    if docker_missing_compose():
        unavailable("no `docker compose` (Compose v2) on PATH")
    secrets_dir = tmp_path_factory.mktemp("secrets")
    env_file = secrets_dir / "empty.env"  # not the checkout's .env
    env_file.write_text("")
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXTAGRAM_")}
    env.update(EXTAGRAM_SWARM_SECRETS_DIR=str(secrets_dir), EXTAGRAM_OPS_ENV_FILE=str(env_file))
    text = stack_config(REPO, env)
    return text, json.loads(text)


def test_the_stack_loader_accepts_it(stack_file):
    text, _ = stack_file
    result = docker("stack", "config", "-c", "-", input=text, check=False)
    assert result.returncode == 0, result.stderr


def test_nothing_swarm_refuses_or_drops_is_left(stack_file):
    _, config = stack_file
    assert "name" not in config
    assert "secrets-init" not in config["services"]
    assert "secrets" not in config.get("volumes", {})
    for name, service in config["services"].items():
        for key in ("build", "depends_on", "cpu_shares", "tmpfs", "pull_policy", "network_mode"):
            assert key not in service, (name, key)
        assert "/run/secrets" not in json.dumps(service.get("volumes", [])), name
    for kind in ("networks", "volumes", "secrets", "configs"):
        for name, resource in config.get(kind, {}).items():
            assert "name" not in (resource or {}), (kind, name)  # the stack prefixes its own


def test_every_service_has_the_swarm_deploy_settings(stack_file):
    _, config = stack_file
    services = config["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        deploy = services[name]["deploy"]
        assert deploy["endpoint_mode"] == "dnsrr", name
        assert deploy["restart_policy"]["condition"] == "any", name
        assert deploy["resources"]["limits"] and deploy["resources"]["reservations"], name
        assert deploy["update_config"]["failure_action"] == "rollback", name
        assert "rollback_config" in deploy, name
        assert services[name]["read_only"] is True, name
        tmpfs = [v for v in services[name]["volumes"] if v["type"] == "tmpfs"]
        assert tmpfs, f"{name}: a read-only root needs its tmpfs mounts"
    for name in ("app", "upload", "media", "static"):
        assert services[name]["deploy"]["update_config"]["order"] == "start-first", name
    assert services["db"]["deploy"]["update_config"]["order"] == "stop-first"
    assert "node.labels.extagram.db == true" in services["db"]["deploy"]["placement"]["constraints"]
    proxy = services["proxy"]
    assert proxy["deploy"]["mode"] == "global"
    assert "node.labels.extagram.edge == true" in proxy["deploy"]["placement"]["constraints"]
    assert {p["mode"] for p in proxy["ports"]} == {"host"}
    assert services["migrate"]["deploy"]["restart_policy"]["condition"] == "on-failure"
    assert {net["driver"] for net in config["networks"].values()} == {"overlay"}
    assert config["networks"]["back"]["internal"] is True


def compose_tmpfs_sizes():
    """{(service, mount point): bytes} of compose.yaml's tmpfs mounts, variables at their
    defaults."""
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    sizes = {}
    for name, service in compose["services"].items():
        for mount in service.get("tmpfs", []):
            mount = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", mount)
            target, options = mount.split(":", 1)
            size = re.search(r"size=(\d+)([kmg])", options)
            sizes[name, target] = int(size[1]) * units[size[2]]
    return sizes


def test_every_tmpfs_is_as_big_as_in_compose(stack_file):
    # the proxy's /tmp was 16 MB on a swarm: smaller than the two caches put in it (8 MB
    # of pages, 16 MB of photos and static files; deploy/proxy/templates/10-http.conf)
    _, config = stack_file
    swarm = {
        (name, volume["target"]): volume["tmpfs"]["size"]
        for name, service in config["services"].items()
        for volume in service.get("volumes", [])
        if volume["type"] == "tmpfs"
    }
    compose = compose_tmpfs_sizes()
    assert {key: swarm.get(key) for key in compose} == compose


ON_DISK = [
    ("proxy", "/var/spool/extagram", "proxy-spool"),  # uploads' bodies as they arrive
    ("proxy", "/var/cache/extagram", "proxy-cache"),  # the photo and static edge cache
    ("media", "/var/cache/extagram", "media-cache"),  # the bucket cache
    ("db", "/var/tmp", "db-tmp"),  # innodb_tmpdir: an index's sort files, as big as its keys
]


@pytest.mark.parametrize(("service", "target", "volume"), ON_DISK)
def test_what_a_burst_or_a_migration_writes_is_on_a_volume_on_each_node(
    stack_file, service, target, volume
):
    # in a tmpfs, bodies or first fetches arriving at once filled it (nginx's 500, photos
    # cut short), and an index built on 3.5 million follows got mariadbd OOM-killed (a
    # tmpfs is memory): docs/performance.md
    _, config = stack_file
    volumes = {v["target"]: v for v in config["services"][service]["volumes"]}
    assert (volumes[target]["type"], volumes[target]["source"]) == ("volume", volume)
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert f"{volume}:{target}" in compose["services"][service]["volumes"]


def test_the_database_sorts_an_index_in_that_volume():
    cnf = (REPO / "deploy/db/extagram.cnf").read_text()
    assert re.search(r"^innodb_tmpdir = /var/tmp$", cnf, re.MULTILINE)


def test_the_databases_index_statistics_leave_nulls_out():
    # a notification's post and comment are mostly NULL: counted as one value, they made
    # MariaDB scan every notification for a deleted post's comments (docs/performance.md)
    cnf = (REPO / "deploy/db/extagram.cnf").read_text()
    assert re.search(r"^innodb_stats_method = nulls_ignored$", cnf, re.MULTILINE)


CACHE_CONFIGS = (
    "deploy/proxy/templates/10-http.conf.template",
    "deploy/media/bucket.conf.template",
)


def test_the_photo_caches_are_kept_on_those_volumes():
    for path in CACHE_CONFIGS:
        caches = re.findall(r"proxy_cache_path (\S+) .*keys_zone=(\w+)", (REPO / path).read_text())
        assert caches, f"no proxy_cache_path in {path}"
        for directory, zone in caches:
            if zone != "extagram_micro":  # pages: small, in the proxy's /tmp
                assert directory.startswith("/var/cache/extagram/"), (path, zone)


def test_secrets_are_swarm_secrets_read_by_their_users_only(stack_file):
    _, config = stack_file
    assert set(config["secrets"]) == {"secret_key", "db_password", "db_root_password"}
    for name in ("app", "upload", "migrate"):
        given = {s["source"]: (s["uid"], s["mode"]) for s in config["services"][name]["secrets"]}
        assert given == {"secret_key": ("10001", 0o400), "db_password": ("10001", 0o400)}
    given = {s["source"]: (s["uid"], s["mode"]) for s in config["services"]["db"]["secrets"]}
    assert given == {"db_password": ("999", 0o400), "db_root_password": ("999", 0o400)}


def test_migrations_are_a_swarm_job_run_once_per_deploy(stack_file):
    _, config = stack_file
    deploy = config["services"]["migrate"]["deploy"]
    assert deploy["mode"] == "replicated-job"
    assert deploy["replicas"] == 1
    assert "update_config" not in deploy  # a job is re-run, not rolled


def _seconds(duration):
    """'1m0s' / '10s' / '2s' (docker compose config's durations) -> seconds."""
    minutes, _, rest = duration.rpartition("m")
    return int(minutes or 0) * 60 + float(rest.rstrip("s") or 0)


def test_the_app_tiers_survive_a_slow_healthcheck_and_uploads_have_two_replicas(stack_file):
    """Swarm kills a task whose healthcheck fails `retries` times in a row: on a swarm the
    check is more patient than compose.yaml's (a busy task is not killed for being slow);
    two upload replicas on two nodes, so uploads have somewhere to go while one is
    replaced; and time for gunicorn's graceful stop (20 s) before a task is killed."""
    _, config = stack_file
    services = config["services"]
    for name in ("app", "upload"):
        check = services[name]["healthcheck"]
        assert check["test"] == ["CMD", "/usr/local/bin/extagram-healthcheck", "/healthz"], name
        patience = _seconds(check["timeout"]) * check["retries"]
        assert patience >= 60 and check["retries"] >= 5, (name, check)
        assert _seconds(check["start_period"]) >= 60, (name, check)
        assert _seconds(services[name]["stop_grace_period"]) >= 25, name
    upload = services["upload"]["deploy"]
    assert upload["replicas"] == 2
    assert upload["placement"]["max_replicas_per_node"] == 1


def test_without_s3_keys_or_a_certificate_there_are_no_such_secrets(stack_file):
    _, config = stack_file
    for name, service in config["services"].items():
        sources = {s["source"] for s in service.get("secrets", [])}
        assert not sources & {"s3_access_key_id", "s3_secret_access_key"}, name
        assert not sources & {"tls_fullchain", "tls_privkey"}, name
        environment = service.get("environment") or {}
        for variable in ("EXTAGRAM_S3_ACCESS_KEY_ID_FILE", "EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE"):
            assert environment.get(variable, "") == "", (name, variable)


def _render_with(tmp_path, files):
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    for name in ("secret_key", "db_password", "db_root_password", *files):
        (secrets_dir / name).write_text(f"value-of-{name}")
    (tmp_path / "empty.env").write_text("")
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXTAGRAM_")}
    env.update(
        EXTAGRAM_SWARM_SECRETS_DIR=str(secrets_dir),
        EXTAGRAM_OPS_ENV_FILE=str(tmp_path / "empty.env"),
    )
    return stack_config(REPO, env)


def test_s3_keys_and_the_certificate_are_swarm_secrets_not_variables(tmp_path):
    if docker_missing_compose():
        unavailable("no `docker compose` (Compose v2) on PATH")
    files = ("s3_access_key_id", "s3_secret_access_key", "fullchain.pem", "privkey.pem")
    text = _render_with(tmp_path, files)
    for name in files:
        assert f"value-of-{name}" not in text  # files are named, values never copied
    config = json.loads(text)
    for name in ("app", "upload", "migrate"):
        service = config["services"][name]
        given = {s["source"]: (s["target"], s["uid"], s["mode"]) for s in service["secrets"]}
        assert given["s3_access_key_id"] == ("s3_access_key_id", "10001", 0o400)
        assert given["s3_secret_access_key"] == ("s3_secret_access_key", "10001", 0o400)
        environment = service["environment"]
        assert environment["EXTAGRAM_S3_ACCESS_KEY_ID_FILE"] == "/run/secrets/s3_access_key_id"
        assert (
            environment["EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE"] == "/run/secrets/s3_secret_access_key"
        )
    proxy = config["services"]["proxy"]
    given = {s["source"]: (s["target"], s["uid"], s["mode"]) for s in proxy["secrets"]}
    assert given == {
        "tls_fullchain": ("/etc/extagram/tls/fullchain.pem", "101", 0o444),
        "tls_privkey": ("/etc/extagram/tls/privkey.pem", "101", 0o400),
    }
    assert all(v["type"] != "bind" for v in proxy["volumes"])  # no per-node TLS folder
    for name in ("media", "static", "db", "cache", "proxy"):
        sources = {s["source"] for s in config["services"][name].get("secrets", [])}
        assert not sources & {"s3_access_key_id", "s3_secret_access_key"}, name
    result = docker("stack", "config", "-c", "-", input=text, check=False)
    assert result.returncode == 0, result.stderr


def test_half_a_key_pair_is_refused(tmp_path):
    if docker_missing_compose():
        unavailable("no `docker compose` (Compose v2) on PATH")
    with pytest.raises(OpsError, match="supply both s3_access_key_id and s3_secret_access_key"):
        _render_with(tmp_path, ("s3_access_key_id",))


def test_images_only_this_engine_has_are_pointed_out(stack_file, tmp_path):
    text, _config = stack_file
    note = images_note(text)
    assert "app extagram.invalid/app:dev" in note
    assert "warning: app, media, migrate, proxy, static, upload use images named under" in note
    (tmp_path / "registry.env").write_text(
        "EXTAGRAM_IMAGE_PREFIX=registry.example.com/extagram\nEXTAGRAM_VERSION=v1\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXTAGRAM_")}
    env.update(
        EXTAGRAM_SWARM_SECRETS_DIR=str(tmp_path),
        EXTAGRAM_OPS_ENV_FILE=str(tmp_path / "registry.env"),
    )
    (tmp_path / "secret_key").write_text("x")
    note = images_note(stack_config(REPO, env))
    assert "app registry.example.com/extagram/app:v1" in note
    assert "warning" not in note
