"""rotate-secret without an engine: the order of its steps (every task accepts the new
value before any task uses it), the database's passwords, the stack file rendered
afterwards. The engine runs it in tests/ops/test_swarm_engine.py."""

import json
import time
from types import SimpleNamespace

import pytest

from extagram_ops import secret_rotation
from extagram_ops.docker import OpsError
from extagram_ops.secret_rotation import keep_running_secrets, native_password_hash, new_value
from extagram_ops.swarm import SwarmStack


def _ref(secret, target, uid="10001"):
    return {"SecretName": secret, "File": {"Name": target, "UID": uid, "GID": uid, "Mode": 0o400}}


def _service(short, *refs, job=False, env=()):
    mode = {"ReplicatedJob": {}} if job else {"Replicated": {"Replicas": 2}}
    return {
        "Spec": {
            "Name": f"s_{short}",
            "Mode": mode,
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": "reg/extagram/app:v1",
                    "Env": list(env),
                    "Secrets": list(refs),
                }
            },
        }
    }


def _stack_services():
    consumer = [_ref("s_secret_key", "secret_key"), _ref("s_db_password", "db_password")]
    reads = "SECRET_KEY_FALLBACKS_FILE=/run/secrets/secret_key_fallback"
    return {
        "app": _service("app", *consumer, env=["DB_USER=extagram", reads]),
        "upload": _service("upload", *consumer, env=[reads]),
        "migrate": _service("migrate", *consumer, job=True, env=[reads]),
        "db": _service("db", _ref("s_db_password", "db_password", "999")),
        "proxy": _service("proxy"),
    }


class Engine(SwarmStack):
    """A SwarmStack over canned services: each update applies its --secret-rm and
    --secret-add to the spec (other options are not expected), and every step is
    recorded as
    (service, mounts after it) or ("db", accepted password hashes)."""

    def __init__(self, tmp_path, priv=None):
        super().__init__("s", tmp_path, env={})
        self.canned = _stack_services()
        self.steps = []
        self.secrets = ["s_secret_key", "s_db_password"]
        self.priv = priv or {"plugin": "mysql_native_password"}
        self.priv.setdefault("authentication_string", native_password_hash("first"))

    def services(self):
        return self.canned

    def service(self, short):
        return self.canned.get(short)

    def require_stack(self):
        pass

    def check_update_config(self, short, service):
        pass

    def update(self, short, args, timeout, what):
        self._apply(short, args)

    def run_migrate(self, image, timeout, resolve, extra=()):
        self._apply("migrate", list(extra))

    def _apply(self, short, args):
        container = self.canned[short]["Spec"]["TaskTemplate"]["ContainerSpec"]
        pairs = list(zip(args[::2], args[1::2], strict=False))
        removed = {value for flag, value in pairs if flag == "--secret-rm"}
        refs = [r for r in container["Secrets"] if r["SecretName"] not in removed]
        for flag, value in pairs:
            assert flag in ("--secret-rm", "--secret-add"), args
            if flag == "--secret-add":
                option = dict(part.split("=", 1) for part in value.split(","))
                refs.append(_ref(option["source"], option["target"]))
        container["Secrets"] = refs
        self.steps.append((short, {r["File"]["Name"]: r["SecretName"] for r in refs}))

    def exec(self, container, *cmd, **kwargs):
        sql = cmd[-1]
        if sql.startswith("SELECT"):
            return SimpleNamespace(stdout=f"%\t{json.dumps(self.priv)}\n")
        hashes = [part.split("'")[1] for part in sql.split("USING ")[1:]]
        self.steps.append(("db", hashes))
        return SimpleNamespace(stdout="")

    def one(self, service):
        return SimpleNamespace(id="db-task")

    def docker(self, *args, **kwargs):
        if args[:2] == ("secret", "create"):
            self.secrets.append(args[-2])
        elif args[:2] == ("secret", "ls"):
            return SimpleNamespace(stdout="\n".join(self.secrets))
        elif args[:2] == ("secret", "rm"):
            self.secrets.remove(args[2])
        return SimpleNamespace(returncode=0, stdout="")


def test_the_password_hash_is_mariadbs():
    # MariaDB's documentation of PASSWORD(): PASSWORD('notagoodpwd')
    assert native_password_hash("notagoodpwd") == "*3A70EE9FC6594F88CE9E959CD51C5A1C002DC937"


def test_a_new_value_is_random_or_the_operators_file(tmp_path):
    assert len(new_value("secret_key")) >= 64 and new_value("secret_key") != new_value("secret_key")
    assert len(new_value("db_password")) == 32
    given = tmp_path / "value"
    given.write_text("A" * 20 + "b" * 40 + "\n")
    assert new_value("secret_key", given) == "A" * 20 + "b" * 40


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("secret_key", "", "one value"),
        ("secret_key", "two words", "no whitespace"),
        ("secret_key", "short", "a secret_key needs 50 or more"),
        ("db_password", "short", "a db_password needs 16 or more"),
    ],
)
def test_a_file_that_cannot_be_the_secret_is_refused(tmp_path, name, content, message):
    given = tmp_path / "value"
    given.write_text(content)
    with pytest.raises(OpsError, match=message):
        new_value(name, given)


def test_the_new_secret_key_is_accepted_everywhere_before_any_task_signs_with_it(tmp_path):
    engine = Engine(tmp_path)
    new = secret_rotation.rotate(engine, "secret_key", 60)
    assert new.startswith("s_secret_key_")
    fallback_first = [(s, m.get("secret_key_fallback"), m["secret_key"]) for s, m in engine.steps]
    assert fallback_first == [
        ("migrate", "s_secret_key", new),  # serves nothing; `manage` tasks are made from it
        ("app", new, "s_secret_key"),
        ("upload", new, "s_secret_key"),
        ("app", "s_secret_key", new),
        ("upload", "s_secret_key", new),
    ]
    # the first key is the fallback now: kept
    assert engine.secrets == ["s_secret_key", "s_db_password", new]


def test_a_stack_deployed_before_keys_could_fall_back_is_refused_before_anything_changes(
    tmp_path,
):
    engine = Engine(tmp_path)
    engine.canned["upload"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] = []
    with pytest.raises(OpsError, match="s_upload does not read a previous key"):
        secret_rotation.rotate(engine, "secret_key", 60)
    assert engine.steps == [] and engine.secrets == ["s_secret_key", "s_db_password"]


def test_a_second_rotation_drops_the_key_before_the_previous_one(tmp_path, monkeypatch):
    engine = Engine(tmp_path)
    first = secret_rotation.rotate(engine, "secret_key", 60)
    engine.steps.clear()
    engine.secrets.append(first + "-mine")  # not a name rotate-secret gives: not removed
    later = time.gmtime(time.time() + 60)
    monkeypatch.setattr(secret_rotation.time, "gmtime", lambda: later)
    second = secret_rotation.rotate(engine, "secret_key", 60)
    assert engine.steps[1] == ("app", {"secret_key": first, "db_password": "s_db_password",
                                       "secret_key_fallback": second})  # fmt: skip
    mounts = engine.steps[-1][1]
    assert (mounts["secret_key"], mounts["secret_key_fallback"]) == (second, first)
    assert engine.secrets == ["s_db_password", first, first + "-mine", second]


def test_the_database_takes_both_passwords_until_every_service_uses_the_new_one(tmp_path):
    engine = Engine(tmp_path)
    new = secret_rotation.rotate(engine, "db_password", 60)
    first = native_password_hash("first")
    db_steps = [i for i, (who, _) in enumerate(engine.steps) if who == "db"]
    assert [engine.steps[i][1][0] for i in db_steps] == [first, engine.steps[-1][1][0]]
    both, only_new = (engine.steps[i][1] for i in db_steps)
    assert both[0] == first and len(both) == 2 and only_new == [both[1]]
    between = [who for who, _ in engine.steps[db_steps[0] + 1 : db_steps[1]]]
    # the job first: its migrations connect with the new password before anything serves
    assert between == ["migrate", "app", "upload"]
    for short in between:
        assert (
            engine.canned[short]["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"][-1][
                "SecretName"
            ]
            == new
        )
    db = engine.canned["db"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    assert db[0]["SecretName"] == "s_db_password"  # db's kept: read only to initialise
    assert "s_db_password" in engine.secrets


def test_an_account_of_another_authentication_plugin_is_refused_before_anything_changes(tmp_path):
    engine = Engine(tmp_path, priv={"plugin": "ed25519", "authentication_string": "x"})
    with pytest.raises(OpsError, match="ed25519"):
        secret_rotation.rotate(engine, "db_password", 60)
    assert engine.steps == [] and engine.secrets == ["s_secret_key", "s_db_password"]


def test_a_half_done_rotation_keeps_every_password_the_account_accepts(tmp_path):
    half = {"plugin": "mysql_native_password", "authentication_string": native_password_hash("a")}
    half["auth_or"] = [{}, {"plugin": "mysql_native_password",
                            "authentication_string": native_password_hash("b")}]  # fmt: skip
    engine = Engine(tmp_path, priv=half)
    secret_rotation.rotate(engine, "db_password", 60)
    accepted = engine.steps[0][1]
    assert accepted[:2] == [native_password_hash("a"), native_password_hash("b")]
    assert len(accepted) == 3


def test_the_stack_file_keeps_the_secrets_the_running_services_mount(tmp_path):
    engine = Engine(tmp_path)
    secret_rotation.rotate(engine, "secret_key", 60)
    new = engine.canned["app"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"][-2]
    new = new["SecretName"]
    refs = [
        {"source": "secret_key", "target": "secret_key", "uid": "10001", "gid": "10001",
         "mode": 256},
        {"source": "db_password", "target": "db_password", "uid": "10001", "gid": "10001",
         "mode": 256},
    ]  # fmt: skip
    config = {
        "services": {
            short: {"secrets": json.loads(json.dumps(refs))}
            for short in ("app", "upload", "migrate")
        }
        | {"db": {"secrets": [{"source": "db_password", "target": "db_password"}]}}
        | {"cache": {}},
        "secrets": {name: {"file": f"/s/{name}"} for name in ("secret_key", "db_password")},
    }
    config["services"]["cache"] = {"image": "redis"}
    keep_running_secrets(engine, config)
    app = config["services"]["app"]
    assert {r["target"]: r["source"] for r in app["secrets"]} == {
        "secret_key": new,
        "db_password": "s_db_password",
        "secret_key_fallback": "s_secret_key",
    }
    # every running mount by name: the first secrets' files may hold newer values now,
    # which `docker stack deploy` would refuse for an existing secret
    assert config["secrets"] == {
        new: {"name": new, "external": True},
        "s_secret_key": {"name": "s_secret_key", "external": True},
        "s_db_password": {"name": "s_db_password", "external": True},
    }
    assert config["services"]["cache"] == {"image": "redis"}


def test_a_service_not_deployed_yet_keeps_the_files_secrets(tmp_path):
    engine = Engine(tmp_path)
    engine.canned = {}
    config = {
        "services": {"app": {"secrets": [{"source": "secret_key", "target": "secret_key"}]}},
        "secrets": {"secret_key": {"file": "/s/secret_key"}},
    }
    before = json.loads(json.dumps(config))
    keep_running_secrets(engine, config)
    assert config == before


def test_status_says_what_db_needs_before_it_initialises_again():
    rows = [
        {"service": "app", "secrets": {"db_password": "s_db_password_20261204T120000Z"}},
        {"service": "db", "secrets": {"db_password": "s_db_password"}},
    ]
    note = secret_rotation.db_kept_password_note(rows)
    assert note.startswith("db keeps s_db_password as db_password, app uses s_db_password_2026")
    assert note.endswith("give it s_db_password_20261204T120000Z")
    rows[1]["secrets"]["db_password"] = rows[0]["secrets"]["db_password"]
    assert secret_rotation.db_kept_password_note(rows) is None
    assert secret_rotation.db_kept_password_note([]) is None


def test_the_secrets_folder_gets_the_value_in_use(tmp_path):
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "secret_key").write_text("the first key\n")
    engine = Engine(tmp_path)
    engine.env["EXTAGRAM_SWARM_SECRETS_DIR"] = str(folder)
    secret_rotation.rotate(engine, "secret_key", 60, source=None)
    value = (folder / "secret_key").read_text()
    assert value.endswith("\n") and len(value.strip()) >= 64
    assert (folder / "secret_key").stat().st_mode & 0o777 == 0o600
    assert sorted(f.name for f in folder.iterdir()) == ["secret_key"]


def test_without_the_secrets_folder_here_the_rotation_says_its_file_is_old(tmp_path, capsys):
    secret_rotation.rotate(Engine(tmp_path), "db_password", 60)
    assert "its db_password file, if any, still holds the old value" in capsys.readouterr().err


def test_status_says_a_rotation_stopped_half_way_and_how_to_finish_it():
    rows = [
        {"service": "app", "secrets": {"db_password": "s_db_password_2", "secret_key": "k"}},
        {"service": "upload", "secrets": {"db_password": "s_db_password_1", "secret_key": "k"}},
        {"service": "migrate", "secrets": {"db_password": "s_db_password_2", "secret_key": "k"}},
        {"service": "db", "secrets": {"db_password": "s_db_password"}},
    ]
    [line] = secret_rotation.half_done_rotations(rows)
    assert line.startswith("db_password: the services mount different secrets (app s_db_pass")
    assert line.endswith("`rotate-secret db_password` again finishes it")
    rows[1]["secrets"]["db_password"] = "s_db_password_2"
    assert secret_rotation.half_done_rotations(rows) == []  # db keeps its own: not counted
