"""Extagram on Docker Swarm (issue 15; docs/swarm.md): the stack file, and the stack's
operations driven through the engine.

The stack file: compose.yaml is the one source of truth; deploy/swarm/stack.override.yaml
holds only what differs on a swarm. `docker compose config` merges the two (it
understands the override's `!reset`/`!override`, which `docker stack deploy` does not),
and `stack_config` turns its output into what the stack loader accepts: no top-level
`name`, and the few values Compose writes as strings that the stack schema wants as
numbers (CPU counts the other way round), no Compose-made resource names, no `build`,
no optional secret that was not supplied.

The operations (`extagram-ops --swarm STACK ...`, SwarmStack): deploy updates the
`migrate` job and waits for it, then `docker service update --image` of app and upload,
each with the update_config the stack file gave it (start-first, failure_action
rollback, a monitor window), and reads the service's UpdateStatus afterwards (the
update command exits 0 even after the engine rolled it back); rollback is `docker
service rollback`; scale is `docker service scale`; status reads `docker service
ls/ps`; backup/restore `docker exec` into the db (and upload, cache) task containers on
the engine DOCKER_HOST points at. No state file and no container of ours: the engine
keeps the previous spec and reschedules tasks itself.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from django.template.defaultfilters import pluralize

from extagram_ops.docker import Container, OpsError, Project, docker, ended_by_hangup, progress

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


# compose.yaml names the images it builds under this when EXTAGRAM_IMAGE_PREFIX is unset
# (RFC 6761: a name no registry can have): they exist only on the engine that built them.
LOCAL_IMAGE_PREFIX = "extagram.invalid/"


def images_note(stack_text: str) -> str:
    """Lines for the operator (stderr) about a stack file's images: `service: image` for
    each service, then a warning when some are named under LOCAL_IMAGE_PREFIX, which no
    other node can pull (fine on a one-node swarm deployed with --resolve-image never; on
    several nodes, EXTAGRAM_IMAGE_PREFIX and EXTAGRAM_VERSION must be set as for the
    build and push). `stack_text` is what stack_config returns."""
    services = json.loads(stack_text).get("services") or {}
    images = {name: spec.get("image", "") for name, spec in sorted(services.items())}
    lines = ["images: " + ", ".join(f"{name} {image}" for name, image in images.items())]
    local = [name for name, image in images.items() if image.startswith(LOCAL_IMAGE_PREFIX)]
    if local:
        lines.append(
            f"warning: {', '.join(local)} {pluralize(len(local), 'uses,use')} images named "
            f"under {LOCAL_IMAGE_PREFIX} (no "
            "EXTAGRAM_IMAGE_PREFIX set): only the engine that built them has them. Fine "
            "for a one-node swarm deployed with --resolve-image never; on several nodes "
            "set EXTAGRAM_IMAGE_PREFIX (your registry) and EXTAGRAM_VERSION as for the "
            "build and push (docs/swarm.md, Three hosts, step 3)"
        )
    return "\n".join(lines)


# Secrets the stack takes only when their file exists in EXTAGRAM_SWARM_SECRETS_DIR
# (a swarm secret must exist to be referenced): {secret: the variable that points a
# service at it}. Without the S3 keys boto3's own chain is used (instance profile, task
# role); without a certificate the proxy makes a self-signed one when EXTAGRAM_TLS=true.
OPTIONAL_SECRETS = {
    "s3_access_key_id": "EXTAGRAM_S3_ACCESS_KEY_ID_FILE",
    "s3_secret_access_key": "EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE",
    "tls_fullchain": None,
    "tls_privkey": None,
}


def drop_absent_secrets(config: dict) -> list[str]:
    """Leave out of `config` each OPTIONAL_SECRETS entry whose file does not exist: the
    top-level secret, every service's reference to it and the service's variable naming
    its file. Returns the names left out. Both halves of a pair go together (a key id
    without its secret, or a certificate without its key, is a mistake worth a refusal):
    OpsError when only one of them exists."""
    secrets = config.get("secrets") or {}
    absent = [
        name
        for name in OPTIONAL_SECRETS
        if name in secrets and not Path(secrets[name].get("file") or "").is_file()
    ]
    for pair in (("s3_access_key_id", "s3_secret_access_key"), ("tls_fullchain", "tls_privkey")):
        if sum(name in absent for name in pair) == 1:
            missing = next(name for name in pair if name in absent)
            raise OpsError(
                f"swarm secret {missing!r} has no file ({secrets[missing].get('file')}) but its "
                f"pair has one: supply both {pair[0]} and {pair[1]}, or neither"
            )
    for name in absent:
        del secrets[name]
        for service in config.get("services", {}).values():
            given = service.get("secrets") or []
            kept = [s for s in given if (s if isinstance(s, str) else s.get("source")) != name]
            if len(kept) != len(given):
                service["secrets"] = kept
                variable = OPTIONAL_SECRETS[name]
                if variable and variable in (service.get("environment") or {}):
                    service["environment"][variable] = ""
            if not service.get("secrets"):
                service.pop("secrets", None)
    return absent


def for_stack(config: dict) -> dict:
    """`docker compose config` output -> the stack loader's types (changes `config`),
    without the optional secrets that were not supplied (drop_absent_secrets)."""
    config.pop("name", None)
    drop_absent_secrets(config)
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


# ---------------------------------------------------------------- operations

STACK_LABEL = "com.docker.stack.namespace"
TASK_SERVICE_LABEL = "com.docker.swarm.service.name"
TASK_NAME_LABEL = "com.docker.swarm.task.name"
ROLLED = ("app", "upload")
# what `deploy` brings to a version (it rolls static first, then ROLLED)
VERSIONED = (*ROLLED, "static")
# UpdateStatus.State values (moby api/types/swarm): an update is over in one of these
UPDATE_DONE = {"completed", "paused", "rollback_completed", "rollback_paused"}
# seconds to wait for the engine to start a rolling update before concluding it has none
NO_UPDATE_AFTER = 15
LIVE_TASK = {"new", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running"}


# How long a one-off task (SwarmStack.manage) waits for the command run in it, seconds.
ONE_OFF_SECONDS = 3600


def secret_refs(service: dict) -> list[dict]:
    """The secret references of a service (`docker service inspect`): each names its swarm
    secret (SecretName) and its file (File: Name under /run/secrets or a path, UID, GID,
    Mode); [] for none."""
    return service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []


def secret_mounts(service: dict) -> dict[str, str]:
    """{file under /run/secrets (or a path): swarm secret} of a service (`docker service
    inspect`)."""
    return {ref["File"]["Name"]: ref["SecretName"] for ref in secret_refs(service)}


def one_off_service_args(template: dict, name: str, stack: str, node_id: str) -> list[str]:
    """`docker service create` options for a one-off task that runs as the tasks of
    `template` (a service's Spec.TaskTemplate, from `docker service inspect`) do: its
    image, environment, user, secrets, mounts, networks, limits, read-only root and
    dropped capabilities, as a job (`replicated-job`, never restarted) named `name`, on
    the node `node_id`, its container labelled as the stack's (`stack`). The image and
    command are the caller's to append. The CLI has no "create from a spec", hence the
    mapping: a spec field the stack file does not set is not mapped.
    """
    container = template["ContainerSpec"]
    args = ["--detach", "--name", name, "--mode", "replicated-job"]
    args += ["--restart-condition", "none", "--constraint", f"node.id=={node_id}"]
    args += ["--container-label", f"{STACK_LABEL}={stack}"]
    for variable in container.get("Env") or []:
        args += ["--env", variable]
    if container.get("User"):
        args += ["--user", container["User"]]
    if container.get("Dir"):
        args += ["--workdir", container["Dir"]]
    if container.get("ReadOnly"):
        args.append("--read-only")
    for capability in container.get("CapabilityDrop") or []:
        args += ["--cap-drop", capability]
    for capability in container.get("CapabilityAdd") or []:
        args += ["--cap-add", capability]
    for secret in container.get("Secrets") or []:
        file = secret["File"]
        args += [
            "--secret",
            f"source={secret['SecretName']},target={file['Name']},uid={file['UID']},"
            f"gid={file['GID']},mode={file['Mode']:04o}",
        ]
    for mount in container.get("Mounts") or []:
        args += ["--mount", _mount_option(mount)]
    for network in template.get("Networks") or []:
        args += ["--network", network["Target"]]
    limits = (template.get("Resources") or {}).get("Limits") or {}
    if limits.get("MemoryBytes"):
        args += ["--limit-memory", str(limits["MemoryBytes"])]
    if limits.get("NanoCPUs"):
        args += ["--limit-cpu", f"{limits['NanoCPUs'] / 1e9:g}"]
    if limits.get("Pids"):
        args += ["--limit-pids", str(limits["Pids"])]
    log = template.get("LogDriver") or {}
    if log.get("Name"):
        args += ["--log-driver", log["Name"]]
        for key, value in (log.get("Options") or {}).items():
            args += ["--log-opt", f"{key}={value}"]
    return args


def _mount_option(mount: dict) -> str:
    """A spec's mount (Spec.TaskTemplate.ContainerSpec.Mounts[i]) as `--mount` says it."""
    parts = [f"type={mount['Type']}", f"destination={mount['Target']}"]
    if mount.get("Source"):
        parts.append(f"source={mount['Source']}")
    if mount.get("ReadOnly"):
        parts.append("readonly")
    tmpfs = mount.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        parts.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if tmpfs.get("Mode"):
        parts.append(f"tmpfs-mode={tmpfs['Mode']:o}")
    return ",".join(parts)


def constraint_met(node: dict, constraint: str) -> bool:
    """Whether a `docker node inspect` node meets a placement constraint such as
    'node.labels.extagram.app==true' (Docker's syntax: KEY==VALUE or KEY!=VALUE). Keys
    other than node.labels.*, node.role, node.hostname and node.id count as met."""
    for op in ("==", "!="):
        key, sep, value = constraint.partition(op)
        if sep:
            break
    else:
        return True
    key, value = key.strip(), value.strip()
    spec = node.get("Spec") or {}
    if key.startswith("node.labels."):
        actual = (spec.get("Labels") or {}).get(key.removeprefix("node.labels."))
    elif key == "node.role":
        actual = spec.get("Role")
    elif key == "node.hostname":
        actual = (node.get("Description") or {}).get("Hostname")
    elif key == "node.id":
        actual = node.get("ID")
    else:
        return True
    return (actual == value) == (op == "==")


def image_tag(image: str) -> str:
    """The tag of an image reference: 'reg:5000/extagram/app:v2@sha256:..' -> 'v2' ('' if
    it has none)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rpartition(":")[2] if ":" in last else ""


def with_tag(image: str, tag: str) -> str:
    """The same repository with another tag and no digest ('r/app:v1@sha256:..', 'v2' ->
    'r/app:v2'): the engine resolves and pins the new digest itself."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    repo = last.split(":", 1)[0]
    return f"{head}/{repo}:{tag}" if head else f"{repo}:{tag}"


class SwarmStack(Project):
    """A stack deployed with `docker stack deploy` (`docker stack ls` names it), operated
    through the swarm's manager that DOCKER_HOST points at.

    Inherits Project's runners (docker, exec, stream) so that extagram_ops.backup works on
    it unchanged: `one(service)` finds the service's task container on this engine (the
    database's node, for the db task: docs/swarm.md) and says where it runs otherwise.
    """

    def __init__(self, stack: str, directory: Path | None = None, env=None):
        super().__init__(stack, directory, env)
        self.stack = stack
        # how to reach other nodes' engines, for `docker exec` into tasks running there:
        # EXTAGRAM_OPS_NODE_HOSTS="n1=ssh://root@n1,n2=ssh://root@n2" (hostnames as
        # `docker node ls` shows them)
        self.node_hosts = {}
        for item in (self.env.get("EXTAGRAM_OPS_NODE_HOSTS") or "").split(","):
            node, sep, host = item.strip().partition("=")
            if sep and node and host:
                self.node_hosts[node] = host
        self.engine_of: dict[str, str] = {}  # container id -> DOCKER_HOST of its node

    @contextlib.contextmanager
    def on_engine_of(self, *args):
        """Within it, docker calls about a task container found on another node's engine
        (one()) go to that engine."""
        host = next((self.engine_of[a] for a in args if a in self.engine_of), None)
        if host is None:
            yield
            return
        saved = self.env
        self.env = {**saved, "DOCKER_HOST": host}
        try:
            yield
        finally:
            self.env = saved

    def docker(self, *args, **kwargs):
        with self.on_engine_of(*args):
            return super().docker(*args, **kwargs)

    def stream(self, container_id: str, cmd: list[str], sink, stdin=None) -> str:
        with self.on_engine_of(container_id):
            return super().stream(container_id, cmd, sink, stdin)

    def service_name(self, short: str) -> str:
        return f"{self.stack}_{short}"

    # ---- the engine's view
    def check_engine(self):
        super().check_engine()
        info = self.docker("info", "--format", "{{json .Swarm}}").stdout
        swarm = json.loads(info or "{}")
        if swarm.get("LocalNodeState") != "active":
            raise OpsError(
                "this Docker engine is in no swarm (--swarm operates a `docker stack deploy` "
                "stack: point DOCKER_HOST at a manager of the swarm)"
            )
        if not swarm.get("ControlAvailable"):
            raise OpsError(
                "this engine is a swarm worker: point DOCKER_HOST at a manager "
                "(`docker node ls` there lists them)"
            )

    def service(self, short: str) -> dict | None:
        """`docker service inspect` of STACK_short, or None when there is no such service."""
        out = self.docker("service", "inspect", self.service_name(short), check=False)
        if out.returncode != 0:
            return None
        return json.loads(out.stdout)[0]

    def services(self) -> dict[str, dict]:
        """{short name: service inspect} of every service of the stack."""
        ids = self.docker(
            "service", "ls", "-q", "--filter", f"label={STACK_LABEL}={self.stack}"
        ).stdout.split()
        if not ids:
            return {}
        found = json.loads(self.docker("service", "inspect", *ids).stdout)
        prefix = f"{self.stack}_"
        return {s["Spec"]["Name"].removeprefix(prefix): s for s in found}

    def tasks(self, short: str) -> list[dict]:
        """Every task of the service the manager still remembers (`docker inspect` of
        `docker service ps -q`), newest first."""
        ids = self.docker(
            "service", "ps", "-q", "--no-trunc", self.service_name(short), check=False
        ).stdout.split()
        if not ids:
            return []
        tasks = json.loads(self.docker("inspect", *ids, check=False).stdout or "[]")
        return sorted(tasks, key=lambda t: t.get("CreatedAt", ""), reverse=True)

    def node_names(self) -> dict[str, str]:
        out = self.docker("node", "ls", "--format", "{{.ID}}\t{{.Hostname}}").stdout
        return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)

    @contextlib.contextmanager
    def lock(self, what: str):
        """For the block, the swarm config STACK_extagram-ops-lock exists (its name is
        unique in the swarm, so creating it is the lock): two operations that change the
        stack's services never overlap, from this machine or another. Two rotations run
        together each passed their checks, and their start-first updates then needed a
        fourth task where three nodes allow three: an update that never ended (helper-72).
        `what`: the command's arguments as typed. OpsError naming the holder when another
        has it; removed afterwards."""
        name = self.lock_name
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        holder = f"`extagram-ops {what}`, since {since}"
        holder += f", on {os.uname().nodename} (pid {os.getpid()})"
        made = self.docker(
            "config", "create", "--label", f"{STACK_LABEL}={self.stack}", name, "-",
            input=holder, check=False,
        )  # fmt: skip
        if made.returncode != 0:
            if "already exists" not in made.stderr:
                raise OpsError(f"cannot create the swarm config {name}: {made.stderr.strip()}")
            by = self.lock_holder() or "?"
            raise OpsError(
                f"another operation is changing {self.stack!r}: {by}. Wait for it; if no such "
                f"run is left (a killed one), `docker config rm {name}`"
            )
        try:
            yield
        finally:
            self.docker("config", "rm", name, check=False)

    @property
    def lock_name(self) -> str:
        """The swarm config whose existence is lock()."""
        return f"{self.stack}_extagram-ops-lock"

    def lock_holder(self) -> str | None:
        """Who holds lock() (the command, since when, where), or None when nobody does."""
        held = self.docker(
            "config", "inspect", "--format", "{{json .Spec.Data}}", self.lock_name, check=False
        )
        if held.returncode != 0:
            return None
        return base64.b64decode(json.loads(held.stdout)).decode()

    def require_stack(self) -> None:
        if self.service("app") is None:
            raise OpsError(
                f"no service {self.service_name('app')!r} on this swarm: is {self.stack!r} the "
                "stack's name (`docker stack ls`)?"
            )

    def spec_image(self, short: str) -> str:
        service = self.service(short)
        if service is None:
            raise OpsError(f"the stack has no service {self.service_name(short)!r}")
        return service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]

    def spec_env(self, short: str) -> list[str]:
        """The KEY=value environment of the service's spec (what its tasks get)."""
        service = self.service(short)
        if service is None:
            raise OpsError(f"the stack has no service {self.service_name(short)!r}")
        return service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env") or []

    def current_version(self, service: str = "app") -> str | None:
        """The tag of the image the service's spec names (what the engine runs or is
        rolling to), None when the stack has no such service."""
        try:
            return image_tag(self.spec_image(service)) or None
        except OpsError:
            return None

    # ---- task containers on this engine (backup, restore)
    def containers(self, service: str | None = None, all: bool = False) -> list[Container]:
        args = ["ps", "-q", "--no-trunc", "--filter", f"label={STACK_LABEL}={self.stack}"]
        if all:
            args.insert(1, "-a")
        if service:
            args += ["--filter", f"label={TASK_SERVICE_LABEL}={self.service_name(service)}"]
        ids = self.docker(*args).stdout.split()
        found = self.inspect(*ids) if ids else []
        for c in found:
            labels = c.data["Config"].get("Labels") or {}
            c.service = labels.get(TASK_SERVICE_LABEL, "?").removeprefix(f"{self.stack}_")
            # task name "STACK_app.2.<id>": the slot is the replica number
            parts = labels.get(TASK_NAME_LABEL, "").split(".")
            c.number = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0
        if service:
            found = [c for c in found if c.service == service]
        return sorted(found, key=lambda c: (c.service, c.number))

    def one(self, service: str) -> Container:
        running = [c for c in self.running(service) if c.status == "running"]
        if running:
            return running[0]
        names = self.node_names()
        where = [
            names.get(t.get("NodeID", ""), t.get("NodeID", "?"))
            for t in self.tasks(service)
            if t["Status"]["State"] == "running" and t["DesiredState"] == "running"
        ]
        for node in where:
            if node in self.node_hosts:
                try:
                    found = self.remote_container(service, self.node_hosts[node])
                except OpsError:
                    # that node's engine does not answer (a node that is down may still
                    # list a task as running): the next one
                    continue
                if found:
                    return found
        if where:
            raise OpsError(
                f"{self.service_name(service)} runs on node{pluralize(len(set(where)))} "
                f"{', '.join(sorted(set(where)))}, "
                "not on the engine DOCKER_HOST points at: name that node's engine in "
                "EXTAGRAM_OPS_NODE_HOSTS (e.g. NODE=ssh://root@NODE), or run extagram-ops there"
            )
        raise OpsError(f"{self.service_name(service)} has no running task")

    def remote_container(self, service: str, host: str) -> Container | None:
        """The service's running task container on the engine at `host`, remembered so
        that later calls about it go there (on_engine_of)."""
        saved = self.env
        self.env = {**saved, "DOCKER_HOST": host}
        try:
            running = [c for c in self.running(service) if c.status == "running"]
        finally:
            self.env = saved
        for c in running:
            self.engine_of[c.id] = host
        return running[0] if running else None

    def nodes(self) -> list[dict]:
        """`docker node inspect` of every node of the swarm."""
        ids = self.docker("node", "ls", "-q").stdout.split()
        return json.loads(self.docker("node", "inspect", *ids).stdout) if ids else []

    def room(self, service: dict) -> tuple[int, int, int] | None:
        """(tasks, per node, nodes): how many tasks of the service the scheduler can run at
        once when its placement has `max_replicas_per_node`, i.e. that limit times the
        ready, active nodes its constraints allow; None when there is no such limit.
        Constraints this does not read (anything but `node.labels.*`, `node.role`,
        `node.hostname`, `node.id` with == or !=) are taken as met, so it never refuses
        on a guess."""
        placement = service["Spec"]["TaskTemplate"].get("Placement") or {}
        per_node = placement.get("MaxReplicas") or 0
        if not per_node:
            return None
        eligible = [
            node
            for node in self.nodes()
            if (node.get("Status") or {}).get("State") == "ready"
            and (node.get("Spec") or {}).get("Availability") == "active"
            and all(constraint_met(node, c) for c in placement.get("Constraints") or [])
        ]
        return per_node * len(eligible), per_node, len(eligible)

    def check_room(self, short: str, service: dict, replicas: int, what: str) -> None:
        """OpsError, before anything changes, when `replicas` tasks of the service could
        not all be scheduled (room()): the engine would leave the rest pending without an
        end (a start-first update then never finishes)."""
        room = self.room(service)
        if room is None or replicas <= room[0]:
            return
        variable = {"app": "EXTAGRAM_APP_MAX_PER_NODE", "upload": "EXTAGRAM_UPLOAD_MAX_PER_NODE"}
        raise OpsError(
            f"{self.service_name(short)}: {what} needs {replicas} task{pluralize(replicas)} "
            f"at once, but at most {room[1]} per node on {room[2]} eligible "
            f"node{pluralize(room[2])} fit {room[0]}: raise "
            f"max_replicas_per_node ({variable.get(short, 'the stack file')}) and "
            "`docker stack deploy` again, add a node, or run fewer replicas"
        )

    # ---- updates
    def check_update_config(self, short: str, service: dict) -> None:
        """The promises of a deploy rest on the spec: OpsError unless the service updates
        start-first, rolls back by itself on failure, and has a healthcheck (a new task
        is then running, and in DNS, only once healthy)."""
        spec = service["Spec"]
        update = spec.get("UpdateConfig") or {}
        health = spec["TaskTemplate"]["ContainerSpec"].get("Healthcheck") or {}
        problems = []
        if update.get("Order") != "start-first":
            problems.append(f"update order {update.get('Order')!r}, not start-first")
        if update.get("FailureAction") != "rollback":
            problems.append(f"failure action {update.get('FailureAction')!r}, not rollback")
        if health.get("Test") == ["NONE"]:
            problems.append("its healthcheck is disabled")
        if problems:
            raise OpsError(
                f"{self.service_name(short)}: {'; '.join(problems)}: deploy it from the stack "
                "file (`extagram-ops swarm-config`) first"
            )
        state = (service.get("UpdateStatus") or {}).get("State")
        if state in ("updating", "rollback_started"):
            raise OpsError(f"{self.service_name(short)} is already {state}: wait for it")
        self.check_room_to_roll(short, service, "UpdateConfig", "a start-first update")

    def check_room_to_roll(self, short: str, service: dict, config: str, what: str) -> None:
        """check_room() for a rolling change by the service's `config` (UpdateConfig or
        RollbackConfig): start-first runs the new tasks beside the old ones they replace,
        `Parallelism` at a time (0: all)."""
        rolling = service["Spec"].get(config) or {}
        replicas = service["Spec"]["Mode"].get("Replicated", {}).get("Replicas")
        if replicas and rolling.get("Order") == "start-first":
            extra = rolling.get("Parallelism", 1) or replicas
            self.check_room(short, service, replicas + min(extra, replicas), what)

    def update(self, short: str, args: list[str], timeout: float, what: str) -> dict:
        """`docker service update --detach ARGS STACK_short` (or `rollback` when ARGS is
        ['--rollback']), then wait until the engine says the update is over. Returns the
        service; OpsError when the engine rolled it back or paused it (its message and the
        failed tasks' errors quoted), or after `timeout` seconds."""
        before = self.service(short) or {}
        started_before = (before.get("UpdateStatus") or {}).get("StartedAt")
        name = self.service_name(short)
        if args == ["--rollback"]:
            self.docker("service", "rollback", "--detach", name, timeout=120)
        else:
            self.docker("service", "update", "--detach", *args, name, timeout=300)
        began = time.monotonic()
        deadline = began + timeout
        messages = []
        last_said = 0.0
        while True:
            service = self.service(short) or {}
            status = service.get("UpdateStatus") or {}
            state = status.get("State")
            ours = status.get("StartedAt") != started_before
            if ours and status.get("Message"):
                messages.append(status["Message"])
            if ours and state in UPDATE_DONE:
                break
            now = time.monotonic()
            if not ours and now - began > NO_UPDATE_AFTER:
                # the engine started no rolling update: the spec did not change what the
                # tasks run (e.g. the same image digest under another tag)
                progress(f"{name}: nothing to roll (the tasks' spec is unchanged)")
                return service
            if now > deadline:
                raise OpsError(
                    f"{name}: {what} not finished after {timeout:.0f}s (engine: "
                    f"{state or 'no update status'}; {status.get('Message', '')})"
                )
            if now - last_said >= 5:
                progress(f"{name}: {state or 'waiting'} {status.get('Message', '')}".rstrip())
                last_said = now
            time.sleep(1)
        expected = "rollback_completed" if args == ["--rollback"] else "completed"
        if state != expected:
            # the reason is in the message the engine gave when it began rolling back
            # ("... failure or early termination of task ID"), and in the new tasks' fate
            spec = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]
            previous = service.get("PreviousSpec") or {}
            previous = previous.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Image", "")
            rolled_back = state.startswith("rollback") and args != ["--rollback"]
            failed = previous.split("@")[0] if rolled_back else spec
            fates = [
                f"{t['ID'][:12]} {t['Status']['State']}: "
                f"{t['Status'].get('Err') or t['Status'].get('Message', '')}"
                for t in self.tasks(short)
                if t["Spec"]["ContainerSpec"]["Image"].split("@")[0] == failed
            ][:6]
            outcome = f"; the service runs {image_tag(spec)} again" if rolled_back else ""
            detail = f"\n  tasks of {image_tag(failed)}: " + "; ".join(fates) if fates else ""
            raise OpsError(
                f"{name}: {what} ended {state} ({' / '.join(dict.fromkeys(messages))})"
                f"{outcome}{detail}"
            )
        progress(f"{name}: {state}")
        return service

    def run_migrate(self, image: str, timeout: float, resolve: bool, extra=()) -> None:
        """Run the `migrate` job on IMAGE once and wait for it: OpsError if it fails (after
        the restart attempts its spec allows) or outlasts `timeout` seconds. `extra` are
        more `docker service update` options for the job (a rotated secret's)."""
        job = self.service("migrate")
        if job is None or "ReplicatedJob" not in job["Spec"]["Mode"]:
            raise OpsError(
                f"{self.service_name('migrate')} is missing or not a swarm job: deploy the "
                "stack from the current stack file (`extagram-ops swarm-config`) first"
            )
        before = ((job.get("JobStatus") or {}).get("JobIteration") or {}).get("Index", 0)
        args = ["--image", image, "--force"] + ([] if resolve else ["--no-resolve-image"])
        args += extra
        self.docker("service", "update", "--detach", *args, self.service_name("migrate"))
        attempts = job["Spec"]["TaskTemplate"].get("RestartPolicy", {}).get("MaxAttempts", 0)
        deadline = time.monotonic() + timeout
        quiet = 0
        while True:
            job = self.service("migrate") or {}
            index = ((job.get("JobStatus") or {}).get("JobIteration") or {}).get("Index", 0)
            tasks = [
                t
                for t in self.tasks("migrate")
                if index > before and (t.get("JobIteration") or {}).get("Index") == index
            ]
            states = [t["Status"]["State"] for t in tasks]
            if "complete" in states:
                progress(f"migrations of {image_tag(image)} done")
                return
            failed = [t for t in tasks if t["Status"]["State"] in ("failed", "rejected")]
            # gone for good: every try used, or no task left that could still finish
            quiet = quiet + 1 if tasks and not set(states) & LIVE_TASK else 0
            # (MaxAttempts 0: the engine retries without end, so only the timeout stops us)
            if failed and ((attempts and len(failed) > attempts) or quiet >= 3):
                # this run's failed task only: the job's logs hold every earlier run's
                # too, whose last lines buried the cause (a stale traceback)
                logs = self.docker(
                    "service", "logs", "--tail", "20", "--raw", failed[0]["ID"], check=False
                )
                raise OpsError(
                    f"migrations of {image_tag(image)} failed ({len(failed)} "
                    f"tr{pluralize(len(failed), 'y,ies')}; "
                    f"{failed[0]['Status'].get('Err', '')}); app and upload were not "
                    f"touched:\n{(logs.stdout + logs.stderr)[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise OpsError(
                    f"migrations of {image_tag(image)} not done after {timeout:.0f}s "
                    f"(tasks: {states}); app and upload were not touched"
                )
            time.sleep(1)

    def run_migrations(self, version: str | None, timeout: float) -> str:
        """Run the `migrate` job again on the running version (the app service's image;
        `version` is for the Compose signature and must be None or that image's tag) and
        wait for it; returns "". OpsError if it fails. The job's own spec names the
        version it last ran, which a rollback or a deploy of a missing tag leaves behind:
        a restore then ran the migrations of the release rolled back from, or failed."""
        image = self.spec_image("app")
        if version and version != image_tag(image):
            raise OpsError(f"app runs {image_tag(image)}, not {version}")
        self.run_migrate(image, timeout, resolve="@sha256:" in image)
        return ""

    def manage(self, args: list[str], timeout: float) -> int:
        """Run `python manage.py ARGS` (createsuperuser, shell...) in a one-off task and
        return its exit status. The task runs the app service's image (the running
        version) made as the `migrate` job's tasks are (environment, secrets and the back
        network: one_off_service_args) on this engine's node, waits there, and the
        command is `docker exec`'d into it with this terminal, so it can ask questions;
        the task is removed afterwards, when a closed terminal ends this process too
        (ended_by_hangup). Not an app task: the command's ~50 MB went over an app
        replica's 128 MB and the kernel killed a worker serving the site.
        OpsError if the task does not start within `timeout` seconds."""
        job = self.service("migrate")
        if job is None:
            raise OpsError(
                f"{self.service_name('migrate')} is missing: deploy the stack from the "
                "current stack file (`extagram-ops swarm-config`) first"
            )
        template = job["Spec"]["TaskTemplate"]
        short = f"manage-{secrets.token_hex(3)}"
        node = json.loads(self.docker("info", "--format", "{{json .Swarm}}").stdout)["NodeID"]
        options = one_off_service_args(template, self.service_name(short), self.stack, node)
        # the running version: the job's spec keeps the last one it ran (run_migrations)
        image = self.spec_image("app")
        progress(f"starting a one-off task of {image_tag(image)} ({self.service_name(short)})")
        with ended_by_hangup():
            self.docker("service", "create", *options, image, "sleep", str(ONE_OFF_SECONDS))
            try:
                container = self._started(short, timeout)
                terminal = sys.stdin.isatty() and sys.stdout.isatty()
                command = ["docker", "exec", "-it" if terminal else "-i", container.id]
                return subprocess.call([*command, "python", "manage.py", *args], env=self.env)
            finally:
                self.docker("service", "rm", self.service_name(short), check=False)

    def _started(self, short: str, timeout: float) -> Container:
        """The running container of the one-off task `short` on this engine; OpsError if
        the engine could not start it (its error) or not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [c for c in self.running(short) if c.status == "running"]
            if running:
                return running[0]
            failed = [
                t for t in self.tasks(short) if t["Status"]["State"] in ("failed", "rejected")
            ]
            if failed:
                raise OpsError(f"the one-off task failed: {failed[0]['Status'].get('Err', '')}")
            time.sleep(0.5)
        raise OpsError(f"the one-off task was not running after {timeout:.0f}s")

    def deploy(self, version: str, timeout: float, migrate=True, force=False) -> str:
        """The static files of `version` first (the `static` service), then migrations
        once (the job), then app and upload one after the other with the engine's
        start-first rolling update; if upload fails, app is rolled back too, so both
        always run one version. Returns the version they ran before; OpsError.

        static ran the version the stack was deployed with: a release whose CSS changed
        served pages whose style sheet was a 404. While the tiers roll one after the other,
        the proxy asks the app replicas for a file the static tier lacks."""
        self.require_stack()
        services = {short: self.service(short) for short in VERSIONED}
        for short, service in services.items():
            if service is None:
                raise OpsError(f"the stack has no service {self.service_name(short)!r}")
            self.check_update_config(short, service)
        previous = self.current_version("app")
        running = {self.current_version(short) for short in ROLLED}
        if running == {version} and not force:
            self.roll_static(version, timeout)
            progress(f"app and upload already run {version}; nothing to roll (--force redoes it)")
            return previous
        current = self.spec_image("app")
        image = with_tag(current, version)
        # a stack deployed with a registry pins digests; one deployed with
        # `--resolve-image never` (local images on one node) must not ask a registry
        resolve = "@sha256:" in current
        static_before = self.current_version("static")
        self.roll_static(version, timeout, force)
        try:
            self._migrate_and_roll(version, image, timeout, migrate, force, resolve)
        except OpsError:
            if self.current_version("static") != static_before:
                progress(f"{self.service_name('static')}: back to {static_before}, as app")
                self.roll_static(static_before, timeout)
            raise
        return previous

    def _migrate_and_roll(self, version, image, timeout, migrate, force, resolve):
        """deploy()'s migrations and app and upload's rolling updates."""
        if migrate:
            progress(f"running the migrations of {version} (the {self.stack}_migrate job)")
            self.run_migrate(image, timeout, resolve)
        done = []
        for short in ROLLED:
            args = ["--image", image] + ([] if resolve else ["--no-resolve-image"])
            if self.current_version(short) == version:
                if not force:
                    progress(f"{self.service_name(short)} already runs {version}")
                    continue
                args.append("--force")
            progress(f"{self.service_name(short)}: {self.current_version(short)} -> {version}")
            try:
                self.update(short, args, timeout, f"update to {version}")
            except OpsError:
                for other in done:
                    progress(f"{self.service_name(other)}: rolling back too (one version for both)")
                    self.update(other, ["--rollback"], timeout, "rollback")
                raise
            done.append(short)

    def versions_left_behind(self, stack_text: str) -> list[str]:
        """Warnings (lines for stderr) for each of VERSIONED whose running version
        differs from the one the stack file `stack_text` (stack_config's) names: deploying
        the file would take it back there. `deploy` changes the services, not the file, so
        a file rendered afterwards from the old variables took app and upload back to the
        first version without a word."""
        services = json.loads(stack_text).get("services") or {}
        lines = []
        for short in VERSIONED:
            running = self.current_version(short)
            named = image_tag(services.get(short, {}).get("image", ""))
            if running and named and running != named:
                lines.append(
                    f"warning: {self.service_name(short)} runs {running} and this file names "
                    f"{named}: `docker stack deploy` with it would take it back to {named}. "
                    f"To keep {running}, render the file with EXTAGRAM_VERSION={running} "
                    "(the version `deploy` went to; every image of it pushed)"
                )
        return lines

    def roll_static(self, version: str, timeout: float, force=False) -> None:
        """Update the `static` service to the image of `version` (the tag its spec names
        replaced), unless it runs it already; OpsError as update() gives it."""
        if self.current_version("static") == version and not force:
            return
        current = self.spec_image("static")
        args = ["--image", with_tag(current, version)]
        args += [] if "@sha256:" in current else ["--no-resolve-image"]
        progress(f"{self.service_name('static')}: {self.current_version('static')} -> {version}")
        self.update("static", args, timeout, f"update to {version}")

    def rollback(self, timeout: float) -> tuple[str, str]:
        """`docker service rollback` of app and upload (to the spec before the last
        update): (from version, to version). OpsError when there is nothing to go back
        to, or when the last update was already rolled back: by the engine, which then
        keeps no previous spec (swarmkit's updater clears it), or by us, whose previous
        spec is then the version that was left, and going "back" would deploy it."""
        self.require_stack()
        plan = []
        for short in ROLLED:
            service = self.service(short)
            if service is None:
                raise OpsError(f"the stack has no service {self.service_name(short)!r}")
            state = (service.get("UpdateStatus") or {}).get("State", "")
            previous = service.get("PreviousSpec")
            if state.startswith("rollback"):
                raise OpsError(
                    f"{self.service_name(short)}'s last update was already rolled back "
                    f"({state}); it runs {self.current_version(short)}. To go to another "
                    "version, `deploy VERSION`"
                )
            if state == "updating":
                raise OpsError(f"{self.service_name(short)} is updating: wait for it")
            if not previous:
                raise OpsError(f"{self.service_name(short)} has no previous version to go back to")
            self.check_room_to_roll(short, service, "RollbackConfig", "a start-first rollback")
            target = image_tag(previous["TaskTemplate"]["ContainerSpec"]["Image"])
            if target == self.current_version(short):
                # the engine keeps one previous spec, whatever changed it last
                raise OpsError(
                    f"{self.service_name(short)}'s previous spec runs {target} too: its last "
                    "change was not a deploy (e.g. a scale or a rotate-secret), and rolling "
                    "back would only undo "
                    "that. To go to another version, `deploy VERSION`"
                )
            plan.append((short, target))
        before = self.current_version("app") or "?"
        for short, target in plan:
            progress(f"{self.service_name(short)}: {self.current_version(short)} -> {target}")
            self.update(short, ["--rollback"], timeout, f"rollback to {target}")
        after = self.current_version("app") or "?"
        if self.service("static") is not None:
            self.roll_static(after, timeout)  # the static files of the version left
        return before, after

    def scale(self, replicas: int, timeout: float) -> int:
        """`docker service scale STACK_app=N`, then wait until N tasks run (healthy: swarm
        counts a task as running once its healthcheck passes) and no more. Returns the
        count before; OpsError with the scheduler's reason (e.g. no suitable node) when
        they do not within `timeout` seconds."""
        self.require_stack()
        service = self.service("app")
        if "Replicated" not in service["Spec"]["Mode"]:
            raise OpsError(f"{self.service_name('app')} is not a replicated service")
        before = service["Spec"]["Mode"]["Replicated"].get("Replicas", 0)
        self.check_room("app", service, replicas, f"scale to {replicas}")
        self.docker("service", "scale", "--detach", f"{self.service_name('app')}={replicas}")
        deadline = time.monotonic() + timeout
        last_said = 0.0
        while True:
            tasks = [t for t in self.tasks("app") if t["DesiredState"] == "running"]
            running = [t for t in tasks if t["Status"]["State"] == "running"]
            if len(running) == replicas and len(tasks) == replicas:
                return before
            now = time.monotonic()
            if now > deadline:
                waiting = sorted(
                    {
                        t["Status"].get("Err") or t["Status"].get("Message", "")
                        for t in tasks
                        if t["Status"]["State"] != "running"
                    }
                )
                raise OpsError(
                    f"{self.service_name('app')}: {len(running)}/{replicas} "
                    f"task{pluralize(replicas)} running after "
                    f"{timeout:.0f}s; waiting: {'; '.join(waiting) or '-'}"
                )
            if now - last_said >= 5:
                progress(f"{self.service_name('app')}: {len(running)}/{replicas} running")
                last_said = now
            time.sleep(1)

    def status(self) -> dict:
        """{"stack", "services": [...]} for `status`: per service its mode, desired and
        running task counts, version, the last update's state and message, the nodes
        its running tasks are on, why tasks wait for a node (the scheduler's errors), and
        its secrets ({file: swarm secret}); and who holds the lock (lock()), or None."""
        services = self.services()
        if not services:
            raise OpsError(f"no stack {self.stack!r} on this swarm (`docker stack ls`)")
        names = self.node_names()
        rows = []
        for short, service in sorted(services.items()):
            mode = service["Spec"]["Mode"]
            tasks = self.tasks(short)
            wanted = [t for t in tasks if t["DesiredState"] == "running"]
            running = [t for t in wanted if t["Status"]["State"] == "running"]
            if "Replicated" in mode:
                kind, desired = "replicated", mode["Replicated"].get("Replicas", 0)
            elif "Global" in mode:
                kind, desired = "global", len({t.get("NodeID") for t in wanted})
            else:
                kind, desired = "job", None
            update = service.get("UpdateStatus") or {}
            previous = service.get("PreviousSpec")
            waiting = [
                t["Status"]["Err"]
                for t in wanted
                if t["Status"]["State"] == "pending" and t["Status"].get("Err")
            ]
            rows.append(
                {
                    "service": short,
                    "mode": kind,
                    "desired": desired,
                    "running": len(running),
                    "completed": sum(t["Status"]["State"] == "complete" for t in tasks),
                    "version": image_tag(service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]),
                    "previous": image_tag(previous["TaskTemplate"]["ContainerSpec"]["Image"])
                    if previous
                    else None,
                    "update": update.get("State"),
                    "update_message": update.get("Message", ""),
                    "nodes": sorted({names.get(t.get("NodeID"), "?") for t in running}),
                    "waiting": sorted(set(waiting)),
                    "secrets": secret_mounts(service),
                }
            )
        lock = None
        if holder := self.lock_holder():
            lock = (
                f"the lock for changes is held by {holder}: if no such run is left (a killed one), "
                f"`docker config rm {self.lock_name}`"
            )
        return {"stack": self.stack, "services": rows, "lock": lock}
