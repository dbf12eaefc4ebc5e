"""Test scaffolding: the local three-node swarm (.ci/cluster.sh) and stacks deployed on it.

Not part of what users deploy. `.ci/cluster.sh up` runs three Docker engines in containers
of this machine's engine, joined into one swarm, and a registry they pull from; its
variables are in .ci/cluster/cluster.env (the script's header lists them). This module
drives that cluster for the multi-node stack tests (tests/stack/test_swarm.py) and the
cluster drills (drills/cluster.py): the manager and every node through their own
DOCKER_HOST sockets, so nothing here touches the host engine's swarm state.

A ClusterStack is the swarm stack file (extagram_ops.swarm.stack_config) deployed under
its own name, with images from the registry (the engine pins their digests), photos in
an S3 bucket (moto_server on this host's address on the cluster bridge: test scaffolding,
extagram.testing.s3server) and the key pair as swarm secrets, its proxy on the edge node
on a port of its own, which the script also publishes on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import time
from pathlib import Path

from extagram_ops.docker import OpsError, docker
from extagram_ops.swarm import stack_config
from extagram_ops.throwaway import RAISED_LIMITS, Client

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".ci" / "cluster.sh"
# CLUSTER_NAME picks another cluster made by the script (its own prefix, subnet, ports)
_NAME = os.environ.get("CLUSTER_NAME", "xgc")
ENV_FILE = REPO / ".ci" / "cluster" / ("cluster.env" if _NAME == "xgc" else f"{_NAME}.env")
NODES = (1, 2, 3)
KEY_PREFIX = "cluster"


class ClusterUnavailable(RuntimeError):
    """The cluster cannot run here (no root, no engine, the script failed): the reason."""


def read_env(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=value lines of the cluster's variables file ({} when it does not exist)."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


class Cluster:
    """The running cluster as .ci/cluster/cluster.env describes it."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.edge_ip = values["CLUSTER_EDGE_IP"]
        self.gateway = values["CLUSTER_GATEWAY"]
        self.registry = values["CLUSTER_REGISTRY"]
        first, last = values["CLUSTER_EDGE_PORTS"].split("-")
        self.edge_ports = range(int(first), int(last) + 1)
        # the node whose engine manager commands go to (node 1, the only manager the
        # script makes; a drill that loses node 1 promotes others and moves this)
        self.manager = 1

    @classmethod
    def ensure(cls, push_version: str | None = None) -> tuple[Cluster, bool]:
        """(the cluster, whether this call brought it up). Brings it up with
        `.ci/cluster.sh up` when it is not answering; pushes `push_version` of the
        images built from this checkout when given. Raises ClusterUnavailable."""
        if os.geteuid() != 0:
            raise ClusterUnavailable("the cluster's node containers need root")
        brought_up = False
        values = read_env()
        # (an older cluster has no edge ports on loopback: `up` remakes its edge node)
        if not values.get("CLUSTER_EDGE_PORTS") or not cls(values).answering():
            _script("up", env={"CLUSTER_PUSH": "0"}, timeout=1800)
            values = read_env()
            brought_up = True
        cluster = cls(values)
        if not cluster.answering():
            raise ClusterUnavailable(".ci/cluster.sh up ran, but the manager does not answer")
        if push_version:
            _script("push", push_version, timeout=3600)
        return cluster, brought_up

    def answering(self) -> bool:
        try:
            result = self.docker("info", "-f", "{{.Swarm.ControlAvailable}}", check=False)
        except OpsError:
            return False
        return result.returncode == 0 and result.stdout.strip() == "true"

    def down(self):
        """`.ci/cluster.sh down` (volumes, so the nodes' image caches, are kept)."""
        _script("down", timeout=300)

    def host(self, node: int) -> str:
        return self.values[f"CLUSTER_NODE{node}_HOST"]

    def container(self, node: int) -> str:
        """The node's container on this machine's engine."""
        return self.values[f"CLUSTER_NODE{node}_CONTAINER"]

    def hostname(self, node: int) -> str:
        return self.container(node)  # the script gives each node its container's name

    def docker(self, *args, node: int | None = None, check=True, timeout=120, input=None):
        """`docker ARGS` on a node's engine (default: the manager, self.manager)."""
        env = {**os.environ, "DOCKER_HOST": self.host(node or self.manager)}
        return docker(*args, env=env, check=check, timeout=timeout, input=input)

    def node_down(self, node: int):
        """That machine's engine stops (its container is stopped; tasks on it die)."""
        docker("stop", "-t", "10", self.container(node))

    def node_up(self, node: int, timeout=120) -> float:
        """Start a stopped node again; seconds until the manager lists it Ready."""
        started = time.monotonic()
        docker("start", self.container(node))
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.node_state(node) == "ready":
                return time.monotonic() - started
            time.sleep(1)
        raise OpsError(f"node {node} not Ready {timeout}s after it was started")

    def node_state(self, node: int) -> str:
        """The manager's view of a node: ready, down, unknown..."""
        result = self.docker(
            "node", "inspect", "-f", "{{.Status.State}}", self.hostname(node), check=False
        )
        return result.stdout.strip() if result.returncode == 0 else "unknown"

    def used_ports(self) -> set[int]:
        ids = self.docker("service", "ls", "-q").stdout.split()
        if not ids:
            return set()
        specs = json.loads(self.docker("service", "inspect", *ids).stdout)
        return {
            port.get("PublishedPort")
            for spec in specs
            for port in (spec.get("Endpoint") or {}).get("Ports") or []
        }

    def used_subnets(self) -> set[str]:
        ids = self.docker("network", "ls", "-q", "--filter", "driver=overlay").stdout.split()
        nets = json.loads(self.docker("network", "inspect", *ids).stdout) if ids else []
        return {
            cfg.get("Subnet") for net in nets for cfg in (net.get("IPAM") or {}).get("Config") or []
        }


def _script(*args, env=None, timeout=600):
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise ClusterUnavailable(f".ci/cluster.sh {args[0]} failed:\n{result.stdout[-3000:]}")
    return result.stdout


class ClusterStack:
    """A swarm stack deployed on the cluster (see the module's docstring)."""

    def __init__(self, cluster: Cluster, name: str, env: dict, secrets_dir: Path, bucket=None):
        self.cluster = cluster
        self.name = name
        self.env = env
        self.secrets_dir = secrets_dir
        self.bucket = bucket  # (S3Server, bucket name) or None
        self.port = int(env["EXTAGRAM_PORT"])
        # the edge node's port as published on this host's loopback (.ci/cluster.sh)
        self.base_url = f"http://127.0.0.1:{self.port}"

    @classmethod
    def prepare(cls, cluster, name, workdir: Path, version, s3=None, **settings):
        """The stack's variables and secret files (nothing deployed yet).

        `s3` is a started S3Server listening on cluster.gateway (or None: photos on a
        per-node volume); a bucket is made on it with the anonymous-GET policy
        docs/swarm.md asks for. `settings` are compose variables on top.
        """
        secrets_dir = workdir / "secrets"
        secrets_dir.mkdir(mode=0o700, exist_ok=True)
        for secret, size in (("secret_key", 48), ("db_password", 24), ("db_root_password", 24)):
            (secrets_dir / secret).write_text(secrets.token_urlsafe(size))
        env_file = workdir / "empty.env"  # never the checkout's .env (the operator's)
        env_file.write_text("")
        used = cluster.used_ports()
        free = [p for p in cluster.edge_ports if p not in used and p + 1 not in used]
        free = [p for p in free if p + 1 in cluster.edge_ports]
        if not free:
            raise OpsError(f"no two free edge ports in {cluster.edge_ports} for a stack")
        port = random.choice(free)
        taken = cluster.used_subnets()
        front = next(f"198.19.{i}.0/24" for i in range(100, 250) if f"198.19.{i}.0/24" not in taken)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "EXTAGRAM_OPS_ENV_FILE": str(env_file),
            "EXTAGRAM_SWARM_SECRETS_DIR": str(secrets_dir),
            "EXTAGRAM_IMAGE_PREFIX": cluster.values["EXTAGRAM_IMAGE_PREFIX"],
            "DB_IMAGE": cluster.values["DB_IMAGE"],
            "REDIS_IMAGE": cluster.values["REDIS_IMAGE"],
            "EXTAGRAM_VERSION": version,
            "EXTAGRAM_PORT": str(port),
            "EXTAGRAM_HTTPS_PORT": str(port + 1),
            "EXTAGRAM_FRONT_SUBNET": front,
            "EXTAGRAM_HOSTS": "localhost,127.0.0.1",
            "EXTAGRAM_TLS": "false",
            **RAISED_LIMITS,
        }
        bucket = None
        if s3 is not None:
            from extagram.testing.s3server import REGION, SECRET_KEY

            bucket = s3.new_bucket()
            photos = f"arn:aws:s3:::{bucket}/{KEY_PREFIX}/photos/*"
            statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
            policy = {"Version": "2012-10-17", "Statement": [{**statement, "Resource": photos}]}
            s3.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
            # moto takes any key pair; a fresh id, so a test can look for it anywhere
            (secrets_dir / "s3_access_key_id").write_text("AKIA" + secrets.token_hex(8).upper())
            (secrets_dir / "s3_secret_access_key").write_text(SECRET_KEY)
            env.update(
                EXTAGRAM_S3_BUCKET=bucket,
                EXTAGRAM_S3_ENDPOINT_URL=s3.endpoint_url,
                EXTAGRAM_S3_REGION=REGION,
                EXTAGRAM_S3_ADDRESSING_STYLE="path",
                EXTAGRAM_S3_PREFIX=KEY_PREFIX,
                EXTAGRAM_S3_ACCESS_KEY_ID_FILE="/run/secrets/s3_access_key_id",
                EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE="/run/secrets/s3_secret_access_key",  # noqa: S106
            )
        env.update(settings)
        return cls(cluster, name, env, secrets_dir, (s3, bucket) if s3 else None)

    def stack_file(self, app_replicas: int | None = None, media_replicas=None) -> str:
        """The rendered stack file (the S3 key pair becomes swarm secrets there, read
        from EXTAGRAM_SWARM_SECRETS_DIR), plus what this test stack sets: the app's
        replica count, and media replicas at most one per node."""
        config = json.loads(stack_config(REPO, self.env))
        if app_replicas is not None:
            config["services"]["app"].setdefault("deploy", {})["replicas"] = app_replicas
        if media_replicas is not None:
            deploy = config["services"]["media"].setdefault("deploy", {})
            deploy["replicas"] = media_replicas
            deploy.setdefault("placement", {})["max_replicas_per_node"] = 1
        return json.dumps(config, indent=1)

    def deploy(self, app_replicas: int | None = None, media_replicas: int | None = None):
        """`docker stack deploy` on the manager, images resolved to registry digests."""
        self.cluster.docker(
            "stack",
            "deploy",
            "-c",
            "-",
            self.name,
            input=self.stack_file(app_replicas, media_replicas),
            timeout=300,
        )

    def client(self, timeout=15) -> Client:
        return Client(self.base_url, timeout=timeout)

    def service(self, short: str) -> str:
        return f"{self.name}_{short}"

    def spec(self, short: str) -> dict:
        out = self.cluster.docker("service", "inspect", self.service(short)).stdout
        return json.loads(out)[0]

    def tasks(self, short: str | None = None, running=True) -> list[dict]:
        """The stack's tasks ({Name, Node, CurrentState, ...} of `docker stack ps`)."""
        args = ["stack", "ps", self.name, "--no-trunc", "--format", "{{json .}}"]
        if running:
            args[3:3] = ["--filter", "desired-state=running"]
        out = self.cluster.docker(*args, check=False).stdout
        tasks = [json.loads(line) for line in out.splitlines()]
        if short is not None:
            tasks = [t for t in tasks if t["Name"].split(".")[0] == self.service(short)]
        return tasks

    def running_nodes(self, short: str) -> list[str]:
        """Node hostnames of the service's tasks that are running now."""
        return [t["Node"] for t in self.tasks(short) if t["CurrentState"].startswith("Running")]

    def containers(self, short: str) -> list[tuple[int, str]]:
        """(node number, container id) of the service's running containers, every node."""
        found = []
        for node in NODES:
            result = self.cluster.docker(
                "ps",
                "-q",
                "--filter",
                f"label=com.docker.swarm.service.name={self.service(short)}",
                node=node,
                check=False,
            )
            found += (
                [(node, cid) for cid in result.stdout.split()] if result.returncode == 0 else []
            )
        return found

    def exec(self, short: str, *cmd, node: int | None = None, timeout=120) -> str:
        """Run a command in a running container of the service (on `node` if given)."""
        for n, cid in self.containers(short):
            if node is None or n == node:
                result = self.cluster.docker(
                    "exec", cid, *cmd, node=n, timeout=timeout, check=False
                )
                if result.returncode != 0:
                    output = (result.stdout + result.stderr)[-2000:]
                    raise OpsError(
                        f"{' '.join(cmd)[:80]} on node {n}: exit {result.returncode}\n{output}"
                    )
                return result.stdout
        raise OpsError(f"no running {short} container" + (f" on node {node}" if node else ""))

    def manage(self, code: str) -> str:
        """Django `shell -c code` in the upload container (the task's secrets and
        settings; an app container's 128 MB limit has no room for a second Django)."""
        return self.exec("upload", "python", "manage.py", "shell", "--no-imports", "-c", code)

    def unconverged(self) -> dict[str, str]:
        """{short name: "running/desired"} of the stack's replicated and global services
        not running every task they want (`docker service ls`'s Replicas column); jobs,
        which end, are left out. Empty once the engine has converged."""
        out = self.cluster.docker(
            "service", "ls", "--filter", f"label=com.docker.stack.namespace={self.name}",
            "--format", "{{.Name}}\t{{.Mode}}\t{{.Replicas}}", check=False,
        ).stdout  # fmt: skip
        behind = {}
        for line in out.splitlines():
            name, mode, replicas = line.split("\t")
            running, desired = replicas.split()[0].split("/")
            if mode in ("replicated", "global") and running != desired:
                behind[name.removeprefix(f"{self.name}_")] = f"{running}/{desired}"
        return behind

    def wait_serving(self, timeout=600, client: Client | None = None) -> float:
        """Seconds until migrate has completed, every other service runs all the tasks
        it wants (`unconverged` empty) and the sign-up page answers 200 through the edge
        node (`client`, plain HTTP by default). Raises OpsError with the tasks' states
        and migrate's last log lines."""
        started = time.monotonic()
        deadline = started + timeout
        client = client or self.client(timeout=10)
        last = None
        while time.monotonic() < deadline:
            done = any(
                t["CurrentState"].startswith("Complete")
                for t in self.tasks("migrate", running=False)
            )
            behind = self.unconverged()
            if done and not behind:
                try:
                    last = client.get("/accounts/signup/").status
                    if last == 200:
                        return time.monotonic() - started
                except OSError as error:
                    last = error
            else:
                last = f"waiting for {behind or 'migrate'}"
            time.sleep(2)
        states = {t["Name"]: t["CurrentState"] + " " + t.get("Error", "") for t in self.tasks()}
        logs = self.cluster.docker(
            "service", "logs", "--tail", "20", self.service("migrate"), check=False
        ).stdout
        raise OpsError(f"stack not serving in {timeout}s: last {last}; tasks {states}\n{logs}")

    def wait_update(self, short: str, timeout=300) -> str:
        """The service's UpdateStatus.State once it is no longer updating."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = (self.spec(short).get("UpdateStatus") or {}).get("State", "")
            if state not in ("updating", "rollback_started"):
                return state
            time.sleep(1)
        return state

    def bucket_photos(self) -> set[str]:
        """Storage names (photos/...) of the objects in the stack's bucket."""
        server, bucket = self.bucket
        names = set()
        pages = server.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=bucket, Prefix=f"{KEY_PREFIX}/"):
            names |= {o["Key"].removeprefix(f"{KEY_PREFIX}/") for o in page.get("Contents", [])}
        return names

    def database_photos(self) -> set[str]:
        """Storage names of every post's photo files (JPEG and WebP), from the database."""
        code = (
            "from extagram.posts.models import PHOTO_FIELDS, Post\n"
            "for row in Post.objects.values_list(*PHOTO_FIELDS): print(*row)"
        )
        return set(self.manage(code).split())

    def post_ids(self) -> set[int]:
        code = (
            "from extagram.posts.models import Post\n"
            "print(' '.join(str(i) for i in Post.objects.values_list('pk', flat=True)))"
        )
        return {int(i) for i in self.manage(code).split()}

    def post_captions(self) -> set[str]:
        """Every post's caption (the load driver's are unique: bench.loadgen)."""
        code = (
            "from extagram.posts.models import Post\n"
            "for c in Post.objects.values_list('caption', flat=True): print(c)"
        )
        return set(self.manage(code).splitlines())

    def remove(self, timeout=120):
        """`docker stack rm`, then its volumes on every node once its containers are gone."""
        self.cluster.docker("stack", "rm", self.name, check=False)
        label = f"label=com.docker.stack.namespace={self.name}"
        deadline = time.monotonic() + timeout
        for node in NODES:
            if self.cluster.node_state(node) != "ready":
                continue
            while time.monotonic() < deadline:
                left = self.cluster.docker("ps", "-aq", "--filter", label, node=node, check=False)
                if not left.stdout.strip():
                    break
                time.sleep(1)
            vols = self.cluster.docker("volume", "ls", "-q", "--filter", label, node=node).stdout
            if vols.split():
                self.cluster.docker("volume", "rm", "-f", *vols.split(), node=node, check=False)
