"""The swarm stack (deploy/swarm/stack.override.yaml over compose.yaml, rendered by
extagram_ops.swarm) on a one-node swarm of this engine: deployed with `docker stack
deploy`, healthy, a sign-up and a photo upload through the proxy on loopback.

The engine joins a swarm (`docker swarm init --advertise-addr 127.0.0.1`) only if it is
in none, and leaves it afterwards (once no other container runs: see
_leave_swarm_when_alone); the stack has its own name, ports and subnet, so the
Compose stack tests running on the same engine are not touched. The images are the ones
`docker compose build` makes (no registry: the one node uses its local images).
"""

import json
import re
import secrets
import time
from pathlib import Path

import pytest

from extagram.testing.images import jpeg_bytes
from extagram_ops.docker import docker
from extagram_ops.swarm import stack_config
from extagram_ops.throwaway import REPO, Client, free_port, free_subnet, loopback_env
from tests.stack.conftest import require_docker, unavailable
from tests.stack.stackhelpers import AT_SESSION_END, REPORT

pytestmark = pytest.mark.stack

PHOTO_SRC = re.compile(r'src="(/media/photos/[^"]+)"')
LABELS = ("extagram.db", "extagram.edge", "extagram.app")
SERVICES = {"proxy", "app", "upload", "media", "static", "db", "cache", "migrate"}


def _swarm_state():
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


def _service_states(name):
    """{service short name: [task state, ...]} of the stack's current tasks."""
    out = docker(
        "stack",
        "ps",
        name,
        "--filter",
        "desired-state=running",
        "--format",
        "{{json .}}",
        check=False,
    ).stdout
    done = docker(
        "stack",
        "ps",
        name,
        "--filter",
        "desired-state=shutdown",
        "--format",
        "{{json .}}",
        check=False,
    ).stdout
    states = {}
    for line in (out + done).splitlines():
        task = json.loads(line)
        service = task["Name"].split(".")[0].removeprefix(f"{name}_")
        states.setdefault(service, []).append(task["CurrentState"].split()[0])
    return states


@pytest.fixture(scope="module")
def swarm_stack(tmp_path_factory):
    require_docker()
    started = time.monotonic()
    joined = False
    if _swarm_state() == "inactive":
        result = docker("swarm", "init", "--advertise-addr", "127.0.0.1", check=False)
        if result.returncode != 0:
            unavailable(f"docker swarm init failed: {result.stderr.strip()}")
        joined = True
    node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
    had = json.loads(docker("node", "inspect", node, "--format", "{{json .Spec.Labels}}").stdout)
    added = [label for label in LABELS if label not in (had or {})]
    for label in added:
        docker("node", "update", "--label-add", f"{label}=true", node)

    name = f"xgswarm{secrets.token_hex(3)}"
    secrets_dir = tmp_path_factory.mktemp("swarm-secrets")
    for secret, size in (("secret_key", 48), ("db_password", 24), ("db_root_password", 24)):
        (secrets_dir / secret).write_text(secrets.token_urlsafe(size))
    env = loopback_env(
        "swarmtest",
        EXTAGRAM_SWARM_SECRETS_DIR=str(secrets_dir),
        EXTAGRAM_FRONT_SUBNET=free_subnet(),
        EXTAGRAM_PORT=str(free_port()),
        EXTAGRAM_HTTPS_PORT=str(free_port()),
        # never the checkout's .env (it is the operator's)
        EXTAGRAM_OPS_ENV_FILE=str(tmp_path_factory.mktemp("swarm-env") / "empty.env"),
    )
    Path(env["EXTAGRAM_OPS_ENV_FILE"]).write_text("")
    build_started = time.monotonic()
    compose = ("compose", "--env-file", env["EXTAGRAM_OPS_ENV_FILE"], "-p", name)
    docker(*compose, "--project-directory", str(REPO), "build", env=env, timeout=3600)
    REPORT.append(f"swarm: docker compose build: {time.monotonic() - build_started:.1f}s")

    deploy_started = time.monotonic()
    stack_file = stack_config(REPO, env)
    docker("stack", "deploy", "--resolve-image", "never", "-c", "-", name, input=stack_file)
    client = Client(f"http://127.0.0.1:{env['EXTAGRAM_PORT']}", timeout=10)
    try:
        _wait_until_serving(name, client, timeout=300)
        REPORT.append(f"swarm: stack deploy to serving: {time.monotonic() - deploy_started:.1f}s")
        yield {"name": name, "client": client, "env": env, "secrets_dir": secrets_dir}
    finally:
        removed = time.monotonic()
        docker("stack", "rm", name, check=False)
        _wait_gone(name)
        volumes = docker(
            "volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={name}"
        ).stdout.split()
        if volumes:
            docker("volume", "rm", "-f", *volumes, check=False)
        for label in added:
            docker("node", "update", "--label-rm", label, node, check=False)
        if joined:
            _leave_swarm_when_alone()
        REPORT.append(f"swarm: removal: {time.monotonic() - removed:.1f}s")
        REPORT.append(f"swarm: whole test module: {time.monotonic() - started:.1f}s")


def _leave_swarm_when_alone(at_session_end=False):
    """Leave the swarm this test made, once no other container runs on the engine.

    Leaving a swarm (engine 20.10) breaks Docker's DNS in containers that were running
    across it (new containers are fine): the Compose stack tests' proxy then finds no app
    (503). So with other containers running, this waits for the session's end (when the
    Compose stack is down), and if they still run then (STACK_KEEP), stays in the swarm.
    """
    if not docker("ps", "-q").stdout.strip():
        docker("swarm", "leave", "--force", check=False)
    elif not at_session_end:
        AT_SESSION_END.append(lambda: _leave_swarm_when_alone(at_session_end=True))
    else:
        REPORT.append("swarm: containers still running: the engine stays in its one-node swarm")


def _wait_until_serving(name, client, timeout):
    """Until migrate has completed and the sign-up page answers 200 through the proxy."""
    deadline = time.monotonic() + timeout
    states, last = {}, None
    while time.monotonic() < deadline:
        states = _service_states(name)
        if "Complete" in states.get("migrate", []):
            try:
                last = client.get("/accounts/signup/").status
                if last == 200:
                    return
            except OSError as error:
                last = error
        time.sleep(2)
    logs = docker("service", "logs", "--tail", "30", f"{name}_migrate", check=False).stdout
    pytest.fail(f"stack not serving in {timeout}s: tasks {states}, last answer {last}\n{logs}")


def _wait_gone(name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = docker(
            "ps", "-aq", "--filter", f"label=com.docker.stack.namespace={name}", check=False
        ).stdout
        nets = docker(
            "network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={name}"
        ).stdout
        if not out.strip() and not nets.strip():
            return
        time.sleep(1)


def test_every_service_runs_with_dns_round_robin_and_migrate_ran_once(swarm_stack):
    name = swarm_stack["name"]
    states = _service_states(name)
    assert set(states) == SERVICES, states
    assert states["migrate"].count("Complete") == 1, states["migrate"]
    assert states["app"].count("Running") == 2, states["app"]
    for service in SERVICES - {"migrate"}:
        assert "Running" in states[service], (service, states[service])
        spec = json.loads(
            docker("service", "inspect", f"{name}_{service}", "--format", "{{json .Spec}}").stdout
        )
        assert spec["EndpointSpec"]["Mode"] == "dnsrr", service
        assert spec["TaskTemplate"]["RestartPolicy"]["Condition"] == "any", service
        limits = spec["TaskTemplate"]["Resources"]["Limits"]
        assert limits["MemoryBytes"] > 0 and limits["NanoCPUs"] > 0, service
        assert spec["TaskTemplate"]["ContainerSpec"]["ReadOnly"] is True, service
        if service in ("app", "upload", "media", "static"):
            assert spec["UpdateConfig"]["Order"] == "start-first", service
            assert spec["UpdateConfig"]["FailureAction"] == "rollback", service


def test_no_secret_value_shows_in_the_service_specs(swarm_stack):
    name = swarm_stack["name"]
    ids = docker("service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={name}")
    inspected = docker("service", "inspect", *ids.stdout.split()).stdout
    for secret in swarm_stack["secrets_dir"].iterdir():
        assert secret.read_text() not in inspected, secret.name


def test_sign_up_and_upload_a_photo_through_the_proxy(swarm_stack):
    client = swarm_stack["client"]
    user, password = "swarm" + secrets.token_hex(3), "Correct-Horse-" + secrets.token_hex(6)
    response = client.signup(user, password)
    assert response.status == 302, f"signup: {response.status} {response.text[:500]}"
    photo = jpeg_bytes(1200, 900)
    response = client.post_multipart(
        "/upload/",
        {"caption": "hello from the swarm", "alt_text": "a gradient"},
        {"photo": ("gradient.jpg", photo, "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:800]}"
    page = client.get(response.location)
    assert page.status == 200 and "hello from the swarm" in page.text
    match = PHOTO_SRC.search(page.text)
    assert match, "no photo on the post page"
    image = client.get(match.group(1))
    assert image.status == 200
    assert image.header("Content-Type") == "image/jpeg"
    assert image.header("X-Extagram-Tier") == "media"
    assert image.body[:2] == b"\xff\xd8"
