"""compose.yaml as Compose itself reads it (`docker compose config`: needs the Compose CLI,
not an engine): what it would pull, what it names, where it reads the version from."""

import ipaddress
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from extagram_ops.state import write_env_version
from tests.stack.conftest import unavailable

REPO = Path(__file__).resolve().parents[2]


def compose_config(tmp_path, env_file_text="", **env):
    """The resolved configuration as JSON; `env_file_text` is what `.env` would hold."""
    if shutil.which("docker") is None or (
        subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    ):
        unavailable("no `docker compose` (Compose v2) on PATH")
    env_file = tmp_path / "env"
    env_file.write_text(env_file_text)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EXTAGRAM_", "COMPOSE_"))}
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "config", "--format", "json"],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_no_built_service_can_be_pulled_from_a_registry(tmp_path):
    services = compose_config(tmp_path)["services"]
    built = {name: s for name, s in services.items() if "build" in s}
    assert {"proxy", "app", "upload", "media", "static", "migrate", "secrets-init"} <= set(built)
    for name, service in built.items():
        assert service.get("pull_policy") == "never", f"{name} may be pulled"
        registry = service["image"].split("/", 1)[0]
        assert registry.endswith(".invalid"), f"{name}: {service['image']} is a public name"


def test_a_custom_image_prefix_is_never_pulled_either(tmp_path):
    services = compose_config(tmp_path, EXTAGRAM_IMAGE_PREFIX="registry.example.org/me")["services"]
    assert services["app"]["image"] == "registry.example.org/me/app:dev"
    assert all(s.get("pull_policy") == "never" for s in services.values() if "build" in s)


def test_the_front_subnet_defaults_to_the_benchmarking_range_and_is_the_trusted_one(tmp_path):
    config = compose_config(tmp_path)
    (ipam,) = config["networks"]["front"]["ipam"]["config"]
    subnet = ipaddress.ip_network(ipam["subnet"])
    assert subnet.subnet_of(ipaddress.ip_network("198.18.0.0/15"))
    assert config["services"]["app"]["environment"]["EXTAGRAM_TRUSTED_PROXIES"] == str(subnet)
    other = compose_config(tmp_path, EXTAGRAM_FRONT_SUBNET="10.99.0.0/24")
    assert other["networks"]["front"]["ipam"]["config"][0]["subnet"] == "10.99.0.0/24"


def test_compose_reads_the_version_extagram_ops_records(tmp_path):
    env_file = tmp_path / "dot-env"
    env_file.write_text("EXTAGRAM_PORT=8081\n")
    write_env_version(env_file, "v7")
    services = compose_config(tmp_path, env_file.read_text())["services"]
    assert services["app"]["image"].endswith("/app:v7")
    assert services["upload"]["image"].endswith("/app:v7")
    # only the app tier: the proxy and the others stay, so `up -d` does not recreate them
    assert services["proxy"]["image"].endswith("/proxy:dev")
    assert services["static"]["image"].endswith("/static:dev")


def test_no_service_mounts_the_docker_socket(tmp_path):
    for name, service in compose_config(tmp_path)["services"].items():
        sources = [v.get("source", "") for v in service.get("volumes", [])]
        assert not any("docker.sock" in s for s in sources), name


def test_the_database_tier_keeps_two_malloc_arenas(tmp_path):
    # without it, glibc's per-thread arenas got mariadbd OOM-killed under bulk writes
    db = compose_config(tmp_path)["services"]["db"]
    assert db["environment"]["MALLOC_ARENA_MAX"] == "2"


SWARM_OVERRIDE = "deploy/swarm/stack.override.yaml"  # read with compose.yaml on a swarm


def test_every_setting_env_example_offers_reaches_the_containers():
    # a line of .env.example that compose.yaml (or the swarm's override) never reads
    # changes nothing:
    # EXTAGRAM_ERASURE_IN_BACKGROUND was offered there and never passed to the app
    offered = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.M))
    read = (REPO / "compose.yaml").read_text() + (REPO / SWARM_OVERRIDE).read_text()
    assert offered
    assert sorted(name for name in offered if "${" + name not in read) == []
