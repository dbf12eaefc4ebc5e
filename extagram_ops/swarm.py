"""The swarm stack file, derived from compose.yaml (issue 15; docs/swarm.md).

compose.yaml is the one source of truth; deploy/swarm/stack.override.yaml holds only
what differs on a swarm. `docker compose config` merges the two (it understands the
override's `!reset`/`!override`, which `docker stack deploy` does not), and
`stack_config` turns its output into what the stack loader accepts: no top-level
`name`, and the few values Compose writes as strings that the stack schema wants as
numbers (CPU counts the other way round), no Compose-made resource names, no `build`.
"""

from __future__ import annotations

import json
from pathlib import Path

from extagram_ops.docker import OpsError, docker

OVERRIDE = Path("deploy/swarm/stack.override.yaml")


def stack_config(directory: Path, env: dict | None = None) -> str:
    """The stack file (JSON, which is YAML) for `docker stack deploy -c -`.

    `directory` is the checkout (compose.yaml and the override); `env` the variables
    to interpolate (EXTAGRAM_SWARM_SECRETS_DIR among them), and the file named by its
    EXTAGRAM_OPS_ENV_FILE (else `.env` in `directory`, as Compose does). Raises OpsError when
    `docker compose config` refuses the files (its message included).
    """
    # the variables file, as for Project: EXTAGRAM_OPS_ENV_FILE, else the checkout's .env
    env_file = (env or {}).get("EXTAGRAM_OPS_ENV_FILE")
    result = docker(
        "compose",
        *(("--env-file", env_file) if env_file else ()),
        "--project-directory",
        str(directory),
        "-f",
        str(directory / "compose.yaml"),
        "-f",
        str(directory / OVERRIDE),
        "config",
        "--format",
        "json",
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise OpsError(f"docker compose config failed: {result.stderr.strip()}")
    return json.dumps(for_stack(json.loads(result.stdout)), indent=1)


def for_stack(config: dict) -> dict:
    """`docker compose config` output -> the stack loader's types (changes `config`)."""
    config.pop("name", None)
    # Compose names networks and volumes after its project ("extagram_front"); the stack
    # prefixes its own name instead, so two stacks (or a stack and a Compose project)
    # never share one
    for kind in ("networks", "volumes", "secrets", "configs"):
        for resource in (config.get(kind) or {}).values():
            if resource and not resource.get("external"):
                resource.pop("name", None)
    for service in config.get("services", {}).values():
        service.pop("pull_policy", None)
        service.pop("build", None)  # images are built with `docker compose build`
        for key in [key for key, value in service.items() if value is None]:
            del service[key]  # e.g. `entrypoint: null` (the image's own)
        for resources in service.get("deploy", {}).get("resources", {}).values():
            if "cpus" in resources:
                resources["cpus"] = str(resources["cpus"])
        for port in service.get("ports", []):
            if isinstance(port.get("published"), str):
                port["published"] = int(port["published"])
        for volume in service.get("volumes", []):
            tmpfs = volume.get("tmpfs", {})
            if "size" in tmpfs:
                tmpfs["size"] = int(tmpfs["size"])
        for key in ("secrets", "configs"):
            for item in service.get(key, []):
                if isinstance(item, dict) and isinstance(item.get("mode"), str):
                    item["mode"] = int(item["mode"], 8)
    return config
