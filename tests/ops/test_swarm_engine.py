"""`extagram-ops --swarm STACK` against a real swarm: the three-node cluster of
.ci/cluster.sh (engines in containers of this machine's engine, a registry they pull
from; test scaffolding, extagram.testing.cluster), never the host engine's swarm state.

One stack for the module (its own name, edge port and front subnet), deployed from the
registry, served over HTTPS with the certificate and key given as swarm secrets, photos in
an S3 bucket (moto_server on the cluster bridge, test scaffolding; the key pair as
secrets too), each update monitored 5 s instead
of 20 s to keep the run short. In order, each under load through the edge node: deploy
(migrate job, then app and upload rolled by the engine) with no failed request; rollback
in one command; a version whose healthcheck fails is rolled back by the engine, reported
as a failure, and never answers a request; scale 2 -> 4 -> 2; backup (the database and the bucket's
photos) and restore (into the emptied bucket) through the task containers on their nodes;
no secret value in service specs, task environments or logs. Without Docker (or root) the
tests skip; with CI=true that is a failure.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from drills.rolling_deploy import BROKEN_DOCKERFILE
from extagram.testing.cluster import Cluster, ClusterStack, ClusterUnavailable
from extagram.testing.images import noisy_jpeg
from extagram.testing.s3server import S3Server
from extagram_ops.docker import OpsError, docker
from extagram_ops.throwaway import REPO, Client
from tests.ops.conftest import RESULTS
from tests.stack.conftest import require_docker, unavailable

pytestmark = pytest.mark.stack

BASE = "clustertest"  # the version tests/stack/test_swarm.py pushes too (one build)
V2, BROKEN = "opsv2", "opsbroken"
RELABELLED = """
FROM {base}
ENV EXTAGRAM_VERSION={version}
LABEL org.opencontainers.image.version={version}
"""


def _push_derived(cluster, version, broken=False):
    """VERSION of the app and static images: BASE's with another version label (and, if
    `broken`, the app's healthcheck the rolling-deploy drill's, that always fails), built
    here and pushed."""
    registry = cluster.values["CLUSTER_REGISTRY_PUSH"]
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    for repo in ("app", "static"):
        tag = f"{registry}/extagram/{repo}:{version}"
        template = BROKEN_DOCKERFILE if broken and repo == "app" else RELABELLED
        dockerfile = template.format(base=f"{registry}/extagram/{repo}:{BASE}", version=version)
        docker("build", "-q", "-t", tag, "-", input=dockerfile, env=env, timeout=600)
        docker("push", "-q", tag, timeout=600)


def _certificate(folder):
    """A self-signed certificate for 127.0.0.1 as fullchain.pem + privkey.pem."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ops_swarm(tmp_path_factory):
    require_docker()
    try:
        cluster, brought_up = Cluster.ensure(push_version=BASE)
    except ClusterUnavailable as error:
        unavailable(str(error))
    started = time.monotonic()
    _push_derived(cluster, V2)
    _push_derived(cluster, BROKEN, broken=True)
    name = f"xgops{secrets.token_hex(2)}"
    s3 = S3Server(host=cluster.gateway).start()
    stack = ClusterStack.prepare(
        cluster,
        name,
        tmp_path_factory.mktemp("swarm-ops"),
        BASE,
        s3=s3,
        EXTAGRAM_TLS="true",
        EXTAGRAM_TLS_SELF_SIGNED="false",
        EXTAGRAM_UPDATE_MONITOR="5s",
    )
    _certificate(stack.secrets_dir)
    for secret in ("s3_access_key_id", "s3_secret_access_key"):
        (stack.secrets_dir / secret).write_text(secrets.token_urlsafe(30))
    https = f"https://127.0.0.1:{stack.port + 1}"
    pem = (stack.secrets_dir / "fullchain.pem").read_text()
    stack.https = https
    stack.https_client = lambda: Client(https, timeout=15, cafile_data=pem)
    stack.cli_env = {
        **stack.env,
        "DOCKER_HOST": cluster.host(1),
        "EXTAGRAM_OPS_STATE_DIR": str(tmp_path_factory.mktemp("ops-state")),
        "EXTAGRAM_OPS_NODE_HOSTS": ",".join(
            f"{cluster.hostname(n)}={cluster.host(n)}" for n in (1, 2, 3)
        ),
    }
    try:
        stack.deploy()
        took = stack.wait_serving(timeout=600, client=stack.https_client())
        RESULTS.append(f"swarm ops: stack deployed and serving in {took:.1f}s")
        yield stack
    finally:
        stack.remove()
        s3.stop()
        if brought_up and not os.environ.get("CLUSTER_KEEP"):
            cluster.down()
        RESULTS.append(f"swarm ops: whole module {time.monotonic() - started:.1f}s")


def ops(stack, *args, timeout=900):
    """`extagram-ops --swarm STACK ARGS` as an operator runs it (DOCKER_HOST: the
    manager): (CompletedProcess, seconds)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "extagram_ops.cli", "--swarm", stack.name, *args],
        cwd=REPO,
        env=stack.cli_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    took = time.monotonic() - started
    RESULTS.append(
        f"swarm ops: extagram-ops --swarm {' '.join(args)}: exit {result.returncode}, {took:.1f}s"
    )
    return result, took


class Prober:
    """Clients asking `path` (/healthz) over HTTPS through the edge node every 0.1 s,
    counting answers by (status, version) and failures by kind. `browsers`: the clients
    to ask with (signed-in members, whose signed-out answer, a 302, counts as a failure);
    default `clients` new ones."""

    def __init__(self, stack, clients=3, path="/healthz", browsers=None):
        self.stack = stack
        self.path = path
        self.counts = Counter()
        self.stop_event = threading.Event()
        browsers = browsers or [stack.https_client() for _ in range(clients)]
        self.threads = [threading.Thread(target=self.run, args=(b,), daemon=True) for b in browsers]

    def run(self, client):
        while not self.stop_event.is_set():
            try:
                r = client.get(self.path, timeout=10)
                self.counts[(r.status, r.header("X-Extagram-Version"))] += 1
            except OSError as error:
                self.counts[("error", type(error).__name__)] += 1
            time.sleep(0.1)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=30)

    def failed(self):
        return {k: n for k, n in self.counts.items() if k[0] != 200}

    def versions(self):
        return {k[1] for k in self.counts if k[0] == 200}


def spec_version(stack, short):
    image = stack.spec(short)["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    return image.split("@")[0].rsplit(":", 1)[1]


def test_status_lists_every_service_running(ops_swarm):
    result, _ = ops(ops_swarm, "status", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    services = {s["service"]: s for s in json.loads(result.stdout)["services"]}
    assert set(services) == {"proxy", "app", "upload", "media", "static", "db", "cache", "migrate"}
    assert services["app"]["running"] == services["app"]["desired"] == 2
    assert services["migrate"]["mode"] == "job" and services["migrate"]["completed"] >= 1


def test_the_certificate_is_served_from_swarm_secrets(ops_swarm):
    """The client trusts only the certificate given as a secret: a handshake proves the
    proxy serves it (no bind mount, no self-signed one)."""
    response = ops_swarm.https_client().get("/healthz")
    assert response.status == 200


def test_deploy_runs_migrations_once_then_rolls_app_and_upload_with_no_failed_request(ops_swarm):
    job = ops_swarm.spec("migrate")
    before = job["JobStatus"]["JobIteration"].get("Index", 0)
    with Prober(ops_swarm) as probe:
        result, took = ops(ops_swarm, "deploy", V2, "--timeout", "600")
        time.sleep(3)
    assert result.returncode == 0, result.stderr[-3000:]
    assert probe.failed() == {}, probe.counts
    assert probe.versions() <= {BASE, V2}, probe.counts
    assert {spec_version(ops_swarm, s) for s in ("static", "app", "upload", "migrate")} == {V2}
    served = {
        ops_swarm.https_client().get("/healthz").header("X-Extagram-Version") for _ in range(6)
    }
    assert served == {V2}
    job = ops_swarm.spec("migrate")
    assert job["JobStatus"]["JobIteration"].get("Index", 0) > before
    ran = [t for t in ops_swarm.tasks("migrate", running=False) if V2 in t["Image"]]
    assert [t["CurrentState"].split()[0] for t in ran] == ["Complete"], ran  # once
    RESULTS.append(
        f"swarm ops: deploy {V2} took {took:.1f}s, 0 failed of {sum(probe.counts.values())}"
    )


def test_rollback_is_one_command_with_no_failed_request(ops_swarm):
    with Prober(ops_swarm) as probe:
        result, took = ops(ops_swarm, "rollback", "--timeout", "600")
        time.sleep(3)
    assert result.returncode == 0, result.stderr[-3000:]
    assert probe.failed() == {}, probe.counts
    assert {spec_version(ops_swarm, s) for s in ("app", "upload", "static")} == {BASE}
    RESULTS.append(
        f"swarm ops: rollback took {took:.1f}s, 0 failed of {sum(probe.counts.values())}"
    )


def test_a_broken_version_is_rolled_back_by_the_engine_and_never_answers(ops_swarm):
    with Prober(ops_swarm) as probe:
        result, took = ops(ops_swarm, "deploy", BROKEN, "--skip-migrate", "--timeout", "600")
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert "rollback_completed" in result.stderr, result.stderr[-3000:]
    assert probe.failed() == {}, probe.counts
    assert BROKEN not in probe.versions(), probe.counts
    # app went back by itself; upload was never touched; static, rolled first, went back
    assert {spec_version(ops_swarm, s) for s in ("app", "upload", "static")} == {BASE}
    # and "rollback" now refuses: the engine rolled back by itself, keeping no previous spec
    again, _ = ops(ops_swarm, "rollback")
    assert again.returncode == 1 and "already rolled back" in again.stderr, again.stderr
    RESULTS.append(
        f"swarm ops: broken deploy refused in {took:.1f}s, 0 failed of {sum(probe.counts.values())}"
    )


def test_scale_up_and_down_with_no_failed_request(ops_swarm):
    with Prober(ops_swarm) as probe:
        up, up_took = ops(ops_swarm, "scale", "app=4", "--timeout", "300")
        nodes = ops_swarm.running_nodes("app")
        down, down_took = ops(ops_swarm, "scale", "app=2", "--timeout", "300")
        time.sleep(3)
    assert up.returncode == 0 and down.returncode == 0, up.stderr + down.stderr
    assert len(nodes) == 4 and len(set(nodes)) >= 2, nodes  # at most 2 per node
    assert len(ops_swarm.running_nodes("app")) == 2
    assert probe.failed() == {}, probe.counts
    RESULTS.append(f"swarm ops: scale 2->4 {up_took:.1f}s, 4->2 {down_took:.1f}s, 0 failed")


def test_backup_and_restore_through_the_task_containers(ops_swarm, tmp_path):
    server, bucket = ops_swarm.bucket
    client = ops_swarm.https_client()
    kept, later = "kept" + secrets.token_hex(3), "later" + secrets.token_hex(3)
    password = "Correct-Horse-" + secrets.token_hex(6)
    assert client.signup(kept, password).status == 302
    response = client.post_multipart(
        "/upload/",
        {"caption": "backed up", "alt_text": "noise"},
        {"photo": ("noise.jpg", noisy_jpeg(320, 240, seed=secrets.randbits(32)), "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:300]}"
    result, _ = ops(ops_swarm, "backup", str(tmp_path / "b"))
    assert result.returncode == 0, result.stderr[-3000:]
    # the photos are in the bucket: read through the upload task into media.tar
    assert f"copying the photo files from the S3 bucket {bucket!r}" in result.stderr
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["contents"] == "database+media" and "media.tar" in manifest["files"]
    assert manifest["photos"]["bucket"] == bucket
    s3 = server.client()
    objects = {
        key: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
        for key in server.keys(bucket)
    }
    prefix = f"{ops_swarm.env['EXTAGRAM_S3_PREFIX']}/"
    assert {prefix + n: h for n, h in manifest["media"]["files"].items()} == objects
    # the loss: the objects gone, an account made after the backup
    for key in objects:
        s3.delete_object(Bucket=bucket, Key=key)
    assert ops_swarm.https_client().signup(later, password).status == 302
    result, took = ops(ops_swarm, "restore", str(tmp_path / "b"), "--force")
    assert result.returncode == 0, result.stderr[-3000:]
    # the running version's migrations, not those of the job's last run (V2, rolled back)
    assert f"migrations of {BASE} done" in result.stderr, result.stderr[-2000:]
    assert f"{len(objects)} written, 0 already there" in result.stderr, result.stderr[-2000:]
    assert "photo files, all in the S3 bucket" in result.stderr, result.stderr[-2000:]
    after = {
        key: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
        for key in server.keys(bucket)
    }
    assert after == objects, "the bucket's photos did not come back identical"
    names = ops_swarm.manage(
        "from django.contrib.auth import get_user_model\n"
        "print(' '.join(get_user_model().objects.values_list('username', flat=True)))"
    ).split()
    assert kept in names and later not in names, names
    RESULTS.append(f"swarm ops: restore with {len(objects)} photo objects took {took:.1f}s")


def test_manage_runs_a_command_in_a_one_off_task_and_removes_it(ops_swarm):
    # a staff account the way the README says, with no questions (no terminal here)
    staff = "staff" + secrets.token_hex(3)
    created, took = ops(
        ops_swarm, "manage", "createsuperuser", "--noinput", "--username", staff,
        "--email", f"{staff}@example.org",
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr[-3000:]
    assert "Superuser created successfully" in created.stdout, created.stdout
    # the running version, not the migrate job's last (V2, rolled back)
    assert f"one-off task of {spec_version(ops_swarm, 'app')} " in created.stderr, created.stderr
    count = "from django.contrib.auth import get_user_model as m; "
    count += f"print(m().objects.filter(username={staff!r}, is_superuser=True).count())"
    checked, _ = ops(ops_swarm, "manage", "shell", "--no-imports", "-c", count)
    assert checked.returncode == 0 and checked.stdout.split()[-1] == "1", checked.stdout
    unknown, _ = ops(ops_swarm, "manage", "no-such-command")
    assert unknown.returncode == 1 and "Unknown command" in unknown.stderr, unknown.stderr
    left = ops_swarm.cluster.docker("service", "ls", "--format", "{{.Name}}").stdout.split()
    assert not [name for name in left if "_manage-" in name], left
    RESULTS.append(f"swarm ops: manage createsuperuser in a one-off task took {took:.1f}s")


def test_no_secret_value_in_specs_task_environments_or_logs(ops_swarm):
    values = [
        (f.name, f.read_text().strip())
        for f in ops_swarm.secrets_dir.iterdir()
        if f.name in ("s3_access_key_id", "s3_secret_access_key", "privkey.pem", "db_password")
    ]
    cluster = ops_swarm.cluster
    ids = cluster.docker(
        "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={ops_swarm.name}"
    )
    seen = cluster.docker("service", "inspect", *ids.stdout.split()).stdout
    # every task container's environment and log, read on its node (`docker service
    # logs` gathers the same through the manager, and hung here past 10 min once)
    label = f"label=com.docker.stack.namespace={ops_swarm.name}"
    for node in (1, 2, 3):
        for cid in cluster.docker("ps", "-aq", "--filter", label, node=node).stdout.split():
            env = cluster.docker(
                "inspect", "-f", "{{json .Config.Env}}", cid, node=node, check=False
            )
            if env.returncode != 0 and "No such object" in env.stderr:
                continue  # an old task's container the engine removed meanwhile (a CI run saw one)
            assert env.returncode == 0, env.stderr
            seen += env.stdout
            logs = cluster.docker("logs", "--tail", "5000", cid, node=node, check=False)
            seen += logs.stdout + logs.stderr
    for name, value in values:
        assert value and value.splitlines()[1 if name == "privkey.pem" else 0] not in seen, name
    # the app tasks read the key pair from files, as the settings' envsecret does
    mounted = ops_swarm.exec(
        "app",
        "sh",
        "-c",
        "stat -c '%u %a' /run/secrets/s3_access_key_id; cat /run/secrets/s3_access_key_id",
    )
    assert mounted.split() == [
        "10001",
        "400",
        (ops_swarm.secrets_dir / "s3_access_key_id").read_text().strip(),
    ]


def _signed_up_members(stack, count=3):
    browsers = []
    for _ in range(count):
        browser = stack.https_client()
        name = "rotate" + secrets.token_hex(3)
        assert browser.signup(name, "Correct-Horse-" + secrets.token_hex(6)).status == 302
        assert browser.get("/accounts/settings/").status == 200
        browsers.append(browser)
    return browsers


def _mounts(stack, short):
    """{file under /run/secrets: the swarm secret} of the service's spec."""
    refs = stack.spec(short)["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    return {ref["File"]["Name"]: ref["SecretName"] for ref in refs}


def test_rotating_the_secret_key_fails_no_request_and_signs_nobody_out(ops_swarm):
    first_key = ops_swarm.exec("app", "cat", "/run/secrets/secret_key").strip()
    browsers = _signed_up_members(ops_swarm)
    with (
        Prober(ops_swarm, path="/accounts/settings/", browsers=browsers) as members,
        Prober(ops_swarm) as probe,
    ):
        result, took = ops(ops_swarm, "rotate-secret", "secret_key")
    assert result.returncode == 0, result.stderr[-3000:]
    assert members.counts and not members.failed(), members.counts
    assert probe.counts and not probe.failed(), probe.counts
    new = _mounts(ops_swarm, "app")["secret_key"]
    assert new.startswith(f"{ops_swarm.name}_secret_key_") and new in result.stdout
    for short in ("app", "upload", "migrate"):
        assert _mounts(ops_swarm, short)["secret_key"] == new, short
        assert _mounts(ops_swarm, short)["secret_key_fallback"] == f"{ops_swarm.name}_secret_key"
    key = ops_swarm.exec("app", "cat", "/run/secrets/secret_key").strip()
    fallback = ops_swarm.exec("app", "cat", "/run/secrets/secret_key_fallback").strip()
    assert len(key) >= 50 and key != first_key and fallback == first_key
    # the value is in no spec (a secret, not a variable)
    specs = ops_swarm.cluster.docker("service", "inspect", ops_swarm.service("app")).stdout
    assert key not in specs
    RESULTS.append(
        f"swarm ops: rotate-secret secret_key {took:.1f}s, {sum(members.counts.values())} "
        f"signed-in pages and {sum(probe.counts.values())} probes, none failed"
    )

    # a second rotation drops the first key, which nothing mounts any more
    browsers = _signed_up_members(ops_swarm, 1)
    with Prober(ops_swarm, path="/accounts/settings/", browsers=browsers) as members:
        again, took = ops(ops_swarm, "rotate-secret", "secret_key")
    assert again.returncode == 0, again.stderr[-3000:]
    assert members.counts and not members.failed(), members.counts
    assert _mounts(ops_swarm, "app")["secret_key_fallback"] == new
    left = ops_swarm.cluster.docker("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{ops_swarm.name}_secret_key" not in left and new in left

    # the stack file rendered for this stack keeps the rotated secrets, and the engine
    # takes it: deployed, every service mounts what it did
    rendered, _ = ops(ops_swarm, "swarm-config")
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    config = json.loads(rendered.stdout)
    refs = {ref["target"]: ref["source"] for ref in config["services"]["app"]["secrets"]}
    current = _mounts(ops_swarm, "app")
    assert refs["secret_key"] == current["secret_key"]
    assert refs["secret_key_fallback"] == new
    assert config["secrets"][new] == {"name": new, "external": True}
    assert "secret_key" not in config["secrets"]  # the file's, mounted nowhere now
    before = {short: _mounts(ops_swarm, short) for short in ("app", "upload", "migrate", "db")}
    ops_swarm.cluster.docker(
        "stack", "deploy", "-c", "-", ops_swarm.name, input=rendered.stdout, timeout=300
    )  # fmt: skip
    _wait_for_updates(ops_swarm, ("app", "upload"))
    assert {short: _mounts(ops_swarm, short) for short in before} == before
    key = ops_swarm.exec("app", "cat", "/run/secrets/secret_key").strip()
    assert (ops_swarm.secrets_dir / "secret_key").read_text().strip() == key


def _wait_for_updates(stack, services, timeout=300):
    """Until no service of `services` is updating (a `docker stack deploy` may roll a
    service whose spec it writes in another order: its mounts, its secrets)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = {(stack.spec(s).get("UpdateStatus") or {}).get("State") for s in services}
        if not states & {"updating", "rollback_started"}:
            return
        time.sleep(2)
    raise AssertionError(f"{services} still updating after {timeout}s")


def test_rotating_the_database_password_fails_no_request(ops_swarm):
    first = (ops_swarm.secrets_dir / "db_password").read_text().strip()
    browsers = _signed_up_members(ops_swarm)
    with (
        Prober(ops_swarm, path="/accounts/settings/", browsers=browsers) as members,
        Prober(ops_swarm, path="/readyz") as probe,
    ):
        started = time.monotonic()
        rotation = subprocess.Popen(
            [sys.executable, "-m", "extagram_ops.cli", "--swarm", ops_swarm.name,
             "rotate-secret", "db_password"],
            cwd=REPO, env=ops_swarm.cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        # another change meanwhile is refused: two rotations run together got stuck
        lock = f"{ops_swarm.name}_extagram-ops-lock"
        deadline = time.monotonic() + 60
        while lock not in ops_swarm.cluster.docker("config", "ls", "--format", "{{.Name}}").stdout:
            assert time.monotonic() < deadline and rotation.poll() is None, "no lock taken"
            time.sleep(0.2)
        second, _ = ops(ops_swarm, "rotate-secret", "secret_key")
        stdout, stderr = rotation.communicate(timeout=900)
        took = time.monotonic() - started
    result = subprocess.CompletedProcess(rotation.args, rotation.returncode, stdout, stderr)
    assert result.returncode == 0, result.stderr[-3000:]
    assert second.returncode == 1, second.stdout + second.stderr
    assert "another operation is changing" in second.stderr, second.stderr
    running = f"`extagram-ops --swarm {ops_swarm.name} rotate-secret db_password`, since"
    assert running in second.stderr, second.stderr
    assert lock not in ops_swarm.cluster.docker("config", "ls", "--format", "{{.Name}}").stdout
    assert members.counts and not members.failed(), members.counts
    assert probe.counts and not probe.failed(), probe.counts
    new = _mounts(ops_swarm, "app")["db_password"]
    for short in ("app", "upload", "migrate"):
        assert _mounts(ops_swarm, short)["db_password"] == new, short
    # db keeps the secret it was created with (read only to initialise its data)
    assert _mounts(ops_swarm, "db")["db_password"] == f"{ops_swarm.name}_db_password"
    assert f"keeps {ops_swarm.name}_db_password" in result.stdout, result.stdout
    assert f"give it {new}" in result.stdout, result.stdout
    status, _ = ops(ops_swarm, "status")
    kept = f"note: db keeps {ops_swarm.name}_db_password as db_password, app uses {new}"
    assert kept in status.stdout, status.stdout
    password = ops_swarm.exec("app", "cat", "/run/secrets/db_password").strip()
    assert password != first
    assert (ops_swarm.secrets_dir / "db_password").read_text().strip() == password
    # so a file rendered from the folder without the running stack's names is refused
    # (db still mounts the first password's secret, whose content cannot change), where
    # it would have given app and upload a password the database no longer takes
    mounts = {short: _mounts(ops_swarm, short) for short in ("app", "upload", "db")}
    plain = subprocess.run(
        [sys.executable, "-m", "extagram_ops.cli", "swarm-config"],
        cwd=REPO, env=ops_swarm.cli_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr[-3000:]
    refused = ops_swarm.cluster.docker(
        "stack", "deploy", "-c", "-", ops_swarm.name, input=plain.stdout, timeout=300,
        check=False,
    )  # fmt: skip
    assert refused.returncode != 0, refused.stdout
    assert "only updates to Labels are allowed" in refused.stderr, refused.stderr
    assert {short: _mounts(ops_swarm, short) for short in mounts} == mounts

    def connects(value):
        login = 'MYSQL_PWD="$1" exec mariadb -uextagram -h127.0.0.1 -N -e "SELECT 1"'
        try:
            return ops_swarm.exec("db", "sh", "-c", login, "sh", value).strip() == "1"
        except OpsError:
            return False

    assert connects(password) and not connects(first)
    # and a new page still reads the database through new connections
    assert _signed_up_members(ops_swarm, 1)
    RESULTS.append(
        f"swarm ops: rotate-secret db_password {took:.1f}s, {sum(members.counts.values())} "
        f"signed-in pages and {sum(probe.counts.values())} readiness probes, none failed"
    )
