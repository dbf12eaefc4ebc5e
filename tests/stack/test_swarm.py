"""The swarm stack (deploy/swarm/stack.override.yaml over compose.yaml, rendered by
extagram_ops.swarm) on a three-node swarm: the local cluster of .ci/cluster.sh (three
Docker engines in containers of this machine's engine, a registry they pull from; test
scaffolding, extagram.testing.cluster). Nothing here touches the host engine's swarm.

One stack for the module, deployed from the registry (the engine pins image digests),
three app replicas, photos in an S3 bucket (moto_server on this host's address on the
cluster bridge) with the key pair as swarm secrets; the proxy on the edge node (node 2),
reached on 127.0.0.1. If the cluster is not up, the module brings it up and takes it down
again at the end (CLUSTER_KEEP=1 leaves it); in CI, .ci/run brings it up once.
"""

import json
import os
import re
import secrets
import time

import pytest

from extagram.testing.cluster import Cluster, ClusterStack, ClusterUnavailable
from extagram.testing.images import jpeg_bytes
from extagram.testing.s3server import SECRET_KEY, S3Server
from tests.stack.conftest import require_docker, unavailable
from tests.stack.stackhelpers import REPORT

pytestmark = pytest.mark.stack

VERSION = "clustertest"
PHOTO_SRC = re.compile(r'src="(/media/photos/[^"]+)"')
SERVICES = {"proxy", "app", "upload", "media", "static", "db", "cache", "migrate"}
APP_REPLICAS = 3


@pytest.fixture(scope="module")
def cluster():
    require_docker()
    started = time.monotonic()
    try:
        cluster, brought_up = Cluster.ensure(push_version=VERSION)
    except ClusterUnavailable as error:
        unavailable(str(error))
    REPORT.append(
        f"cluster: {'brought up' if brought_up else 'already up'}, images {VERSION} pushed: "
        f"{time.monotonic() - started:.1f}s"
    )
    yield cluster
    if brought_up and not os.environ.get("CLUSTER_KEEP"):
        down = time.monotonic()
        cluster.down()
        REPORT.append(f"cluster: down {time.monotonic() - down:.1f}s")


@pytest.fixture(scope="module")
def swarm_stack(cluster, tmp_path_factory):
    started = time.monotonic()
    try:
        s3 = S3Server(host=cluster.gateway).start()
    except (RuntimeError, OSError) as error:
        unavailable(f"moto_server on {cluster.gateway}: {error}")
    stack = ClusterStack.prepare(
        cluster, f"xgct{secrets.token_hex(3)}", tmp_path_factory.mktemp("cluster"), VERSION, s3=s3
    )
    try:
        stack.deploy(app_replicas=APP_REPLICAS, media_replicas=3)
        took = stack.wait_serving(timeout=600)
        REPORT.append(f"cluster: stack deploy to serving (3 nodes pull): {took:.1f}s")
        yield stack
    finally:
        if not os.environ.get("STACK_KEEP"):
            removed = time.monotonic()
            stack.remove()
            REPORT.append(f"cluster: stack removal {time.monotonic() - removed:.1f}s")
        s3.stop()
        REPORT.append(f"cluster: test module {time.monotonic() - started:.1f}s")


def _nodes_of_containers(stack, short):
    """{container hostname (the id's first 12 characters): node number}."""
    return {cid[:12]: node for node, cid in stack.containers(short)}


def test_every_service_runs_from_the_registry_with_a_pinned_digest(swarm_stack):
    registry = swarm_stack.cluster.registry
    for service in SERVICES:
        image = swarm_stack.spec(service)["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        assert image.startswith(f"{registry}/"), (service, image)
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), (service, image)


def test_every_service_runs_with_dns_round_robin_and_migrate_ran_once(swarm_stack):
    tasks = swarm_stack.tasks(running=False)
    states = {}
    for task in tasks:
        service = task["Name"].split(".")[0].removeprefix(f"{swarm_stack.name}_")
        states.setdefault(service, []).append(task["CurrentState"].split()[0])
    assert set(states) == SERVICES, states
    assert states["migrate"].count("Complete") == 1, states["migrate"]
    for service in SERVICES - {"migrate"}:
        assert "Running" in states[service], (service, states[service])
        spec = swarm_stack.spec(service)["Spec"]
        assert spec["EndpointSpec"]["Mode"] == "dnsrr", service
        assert spec["TaskTemplate"]["RestartPolicy"]["Condition"] == "any", service
        limits = spec["TaskTemplate"]["Resources"]["Limits"]
        assert limits["MemoryBytes"] > 0 and limits["NanoCPUs"] > 0, service
        assert spec["TaskTemplate"]["ContainerSpec"]["ReadOnly"] is True, service
        if service in ("app", "upload", "media", "static"):
            assert spec["UpdateConfig"]["Order"] == "start-first", service
            assert spec["UpdateConfig"]["FailureAction"] == "rollback", service


def test_the_app_is_spread_over_every_node_and_each_tier_sits_on_its_labelled_node(
    swarm_stack,
):
    cluster = swarm_stack.cluster
    app_nodes = swarm_stack.running_nodes("app")
    assert sorted(app_nodes) == sorted(cluster.hostname(n) for n in (1, 2, 3)), app_nodes
    assert swarm_stack.running_nodes("db") == [cluster.hostname(1)]  # extagram.db
    assert swarm_stack.running_nodes("proxy") == [cluster.hostname(2)]  # extagram.edge


def test_requests_through_the_edge_node_reach_app_replicas_on_the_other_nodes(swarm_stack):
    where = _nodes_of_containers(swarm_stack, "app")
    client = swarm_stack.client()
    served = set()
    for _ in range(30):
        response = client.get("/healthz")
        assert response.status == 200
        served.add(response.header("X-Served-By"))
    nodes = {where.get(name) for name in served}
    # the proxy runs on node 2: answers from nodes 1 and 3 crossed the overlay network
    assert nodes == {1, 2, 3}, (served, where)


def test_a_photo_uploaded_through_the_edge_is_in_the_bucket_and_read_on_every_node(
    swarm_stack,
):
    client = swarm_stack.client(timeout=90)  # a busy 2-core machine runs 3 engines
    user, password = "clus" + secrets.token_hex(3), "Correct-Horse-" + secrets.token_hex(6)
    response = client.signup(user, password)
    assert response.status == 302, f"signup: {response.status} {response.text[:500]}"
    response = client.post_multipart(
        "/upload/",
        {"caption": "hello from three nodes", "alt_text": "a gradient"},
        {"photo": ("gradient.jpg", jpeg_bytes(1200, 900), "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:800]}"
    page = client.get(response.location)
    assert page.status == 200 and "hello from three nodes" in page.text
    src = PHOTO_SRC.search(page.text).group(1)
    image = client.get(src)
    assert image.status == 200 and image.header("X-Extagram-Tier") == "media"
    assert image.body[:2] == b"\xff\xd8"

    in_db = swarm_stack.database_photos()
    assert in_db and swarm_stack.bucket_photos() == in_db
    name = src.removeprefix("/media/")
    assert name in in_db
    # a media replica on every node answers the same photo from the bucket, asked from
    # the proxy's container (node 2) over the overlay network
    assert len(swarm_stack.running_nodes("media")) == 3
    addresses = swarm_stack.exec("proxy", "getent", "ahostsv4", "tasks.media").split()
    addresses = {a for a in addresses if re.fullmatch(r"[0-9.]+", a)}
    assert len(addresses) == 3, addresses
    answers = {
        address: swarm_stack.exec(
            "proxy",
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
            f"http://{address}:8080{src}",
        )
        for address in addresses
    }
    assert set(answers.values()) == {f"200 {len(image.body)}"}, answers


def test_no_secret_value_shows_in_service_specs_task_environments_or_logs(swarm_stack):
    cluster = swarm_stack.cluster
    values = [p.read_text().strip() for p in swarm_stack.secrets_dir.iterdir()]
    assert SECRET_KEY in values and len(values) == 5
    ids = cluster.docker(
        "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={swarm_stack.name}"
    ).stdout.split()
    seen = {"docker service inspect": cluster.docker("service", "inspect", *ids).stdout}
    for node in (1, 2, 3):
        containers = cluster.docker(
            "ps",
            "-aq",
            "--filter",
            f"label=com.docker.stack.namespace={swarm_stack.name}",
            node=node,
        ).stdout.split()
        inspected = json.loads(cluster.docker("inspect", *containers, node=node).stdout)
        # an app task on every node, which has the key pair: by file name only
        envs = [" ".join(c["Config"]["Env"]) for c in inspected]
        wanted = "EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE=/run/secrets/s3_secret_access_key"
        assert any(wanted in env for env in envs), f"no app task inspected on node {node}"
        seen[f"docker inspect on node {node}"] = json.dumps(inspected)
    for service in SERVICES:
        seen[f"logs of {service}"] = cluster.docker(
            "service", "logs", "--raw", swarm_stack.service(service), check=False, timeout=60
        ).stdout
    for where, text in seen.items():
        for value in values:
            assert value not in text, f"a secret value shows in {where}"
