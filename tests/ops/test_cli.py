"""extagram-ops without Docker: arguments, help, backups on disk, state, clear errors."""

import gzip
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from extagram_ops import backup as backups
from extagram_ops import cli
from extagram_ops.docker import OpsError, Project, page_cache_mib, parse_mib
from extagram_ops.state import State, write_env_version
from tests.ops.fakes import fake_docker as _fake_docker

REPO = Path(__file__).resolve().parents[2]

SUBCOMMANDS = ("status", "deploy", "rollback", "scale", "backup", "restore")


def test_help_for_every_subcommand(capsys):
    for name in (None, *SUBCOMMANDS):
        argv = [name, "--help"] if name else ["--help"]
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert "usage: extagram-ops" in out
        if name:
            assert name in out


@pytest.mark.parametrize(
    "argv",
    [
        ["scale", "app"],
        ["scale", "app=0"],
        ["scale", "app=x"],
        ["scale", "db=3"],
        ["deploy", "bad tag"],
        ["deploy", "-x"],
        ["restore"],
        [],
    ],
)
def test_bad_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_no_docker_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker here
    assert cli.main(["status"]) == 1
    assert "no `docker` command on PATH" in capsys.readouterr().err


def test_deploy_without_stack_says_so(monkeypatch, capsys, tmp_path):
    # an engine that answers, with no containers at all
    _fake_docker(tmp_path, monkeypatch, 'case "$1" in info) echo 20.10;; *) exit 0;; esac\n')
    assert cli.main(["-p", "nothing-here", "deploy", "v2"]) == 1
    err = capsys.readouterr().err
    assert "no running app containers in compose project 'nothing-here'" in err


def test_rollback_without_history_says_so(monkeypatch, capsys, tmp_path):
    _fake_docker(tmp_path, monkeypatch, 'case "$1" in info) echo 20.10;; *) exit 0;; esac\n')
    assert cli.main(["-p", "p1", "rollback"]) == 1
    assert "no previous version recorded" in capsys.readouterr().err


def test_state_records_current_and_previous(tmp_path):
    state = State("proj", tmp_path)
    assert state.load()["current"] is None
    state.record("deploy", "v2", "v1")
    data = State("proj", tmp_path).load()
    assert (data["current"], data["previous"]) == ("v2", "v1")
    assert data["history"][-1]["action"] == "deploy"
    with (
        state.lock(),
        pytest.raises(OpsError, match="another extagram-ops operation"),
        State("proj", tmp_path).lock(),
    ):
        pass


def test_the_deployed_version_is_written_where_compose_reads_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# mine\nEXTAGRAM_PORT=80\n#EXTAGRAM_APP_VERSION=dev\n")
    env_file.chmod(0o600)
    write_env_version(env_file, "v2")
    write_env_version(env_file, "v3")
    assert env_file.read_text().splitlines()[:3] == [
        "# mine",
        "EXTAGRAM_PORT=80",
        "#EXTAGRAM_APP_VERSION=dev",
    ]
    assert env_file.read_text().count("\nEXTAGRAM_APP_VERSION=") == 1
    assert env_file.read_text().endswith("\nEXTAGRAM_APP_VERSION=v3\n")
    assert env_file.stat().st_mode & 0o777 == 0o600
    write_env_version(tmp_path / "new" / ".env", "v1")
    assert "EXTAGRAM_APP_VERSION=v1\n" in (tmp_path / "new" / ".env").read_text()


class RunningVersion:
    """A stack already running `version` (what a plain `docker compose up -d` leaves)."""

    def __init__(self, tmp_path, version):
        self.name, self.version, self.env = "p", version, {}
        self.env_file = tmp_path / ".env"

    def require_stack(self):
        pass

    def current_version(self, service):
        return self.version


def test_a_rollback_to_what_already_runs_records_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXTAGRAM_OPS_STATE_DIR", str(tmp_path / "state"))
    State("p").record("deploy", "v2", "v1")
    project = RunningVersion(tmp_path, "v1")  # someone ran `up -d` with v1 meanwhile
    assert cli.roll_to(project, "v1", 10, "rollback", migrate=False) == 0
    data = State("p").load()
    assert (data["current"], data["previous"]) == ("v1", "v2")
    assert "EXTAGRAM_APP_VERSION=v1" in project.env_file.read_text()
    assert "recorded v1, was v2" in capsys.readouterr().out


def test_parse_mib():
    assert parse_mib("12.5MiB / 128MiB") == 12.5
    assert parse_mib("1GiB") == 1024
    assert parse_mib("512KiB") == 0.5
    assert parse_mib("?") == 0.0


def test_the_page_cache_docker_stats_counts_is_read_from_the_containers_cgroup(tmp_path):
    v1 = tmp_path / "v1" / "memory" / "docker" / "abc"
    v1.mkdir(parents=True)
    # cgroup v1 lists the cgroup's own counters and the hierarchy's (total_*): the latter
    (v1 / "memory.stat").write_text("active_file 1048576\ntotal_active_file 5242880\n")
    v2 = tmp_path / "v2" / "system.slice" / "docker-abc.scope"
    v2.mkdir(parents=True)
    (v2 / "memory.stat").write_text("anon 9437184\nactive_file 3145728\ninactive_file 1\n")
    assert page_cache_mib("abc", root=tmp_path / "v1") == 5.0
    assert page_cache_mib("abc", root=tmp_path / "v2") == 3.0
    assert page_cache_mib("other", root=tmp_path / "v2") is None


DUMP = b"""-- MariaDB dump 10.19  Distrib 11.8.2-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: extagram
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `auth_user`;
CREATE TABLE `auth_user` (`id` int NOT NULL);
INSERT INTO `auth_user` VALUES (1);
INSERT INTO `auth_user` VALUES (2);
INSERT INTO `posts_post` VALUES (7,'a;b');
-- Dump completed
"""


def make_backup(folder, dump=DUMP, media=None):
    """A backup directory laid out like `extagram-ops backup` writes it."""
    media = media if media is not None else {"ab/cd.jpg": b"jpeg-1", "thumbs/x.webp": b"w"}
    folder.mkdir()
    with gzip.open(folder / "db.sql.gz", "wb") as out:
        out.write(dump)
    with tarfile.open(folder / "media.tar", "w") as tar:
        for name, data in media.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    digest = backups.DumpDigest()
    digest.feed(dump)
    manifest = {
        "format": backups.FORMAT,
        "created_at": "2026-11-28T00:00:00+00:00",
        "project": "p",
        "versions": {"app": "v1", "upload": "v1", "db_server": "11.8"},
        "files": {
            name: {"sha256": backups.sha256_file(folder / name), "bytes": 1}
            for name in ("db.sql.gz", "media.tar")
        },
        "db": {"sql_sha256": digest.finish(), "sql_bytes": len(dump), "tables": digest.rows},
        "media": {
            "count": len(media),
            "files": {k: hashlib.sha256(v).hexdigest() for k, v in media.items()},
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_dump_digest_ignores_comments_and_counts_rows():
    a, b = backups.DumpDigest(), backups.DumpDigest()
    for i in range(0, len(DUMP), 7):  # chunk boundaries anywhere
        a.feed(DUMP[i : i + 7])
    b.feed(DUMP.replace(b"Host: localhost", b"Host: elsewhere"))
    assert a.finish() == b.finish()
    assert a.completed
    assert a.rows == {"auth_user": 2, "posts_post": 1}


def test_verify_accepts_a_good_backup(tmp_path, capsys):
    make_backup(tmp_path / "b")
    manifest = backups.verify(tmp_path / "b")
    assert manifest["media"]["count"] == 2
    assert cli.main(["backup", "--verify", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "auth_user 2" in out


def test_verify_finds_a_changed_media_file(tmp_path, capsys):
    make_backup(tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    manifest["media"]["files"]["ab/cd.jpg"] = "0" * 64
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["backup", "--verify", str(tmp_path / "b")]) == 1
    assert "ab/cd.jpg checksum differs" in capsys.readouterr().err


def test_verify_needs_no_docker_at_all(tmp_path, monkeypatch, capsys):
    """`backup --verify` only reads a folder: no docker command, no engine, no compose.yaml."""
    make_backup(tmp_path / "b")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["backup", "--verify", str(tmp_path / "b")]) == 0
    assert "verified" in capsys.readouterr().out


def test_verify_finds_a_damaged_file(tmp_path):
    make_backup(tmp_path / "b")
    with open(tmp_path / "b" / "db.sql.gz", "ab") as out:
        out.write(b"x")
    with pytest.raises(OpsError, match=r"db.sql.gz: sha256 differs"):
        backups.verify(tmp_path / "b")


def test_verify_finds_a_truncated_dump(tmp_path):
    make_backup(tmp_path / "b", dump=DUMP.replace(b"-- Dump completed\n", b""))
    with pytest.raises(OpsError, match="content does not match|damaged"):
        backups.verify(tmp_path / "b")


def test_verify_not_a_backup(tmp_path):
    with pytest.raises(OpsError, match="no manifest.json"):
        backups.verify(tmp_path)


def test_backup_refuses_a_non_empty_destination(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("mine")

    class NoStack:
        pass

    with pytest.raises(OpsError, match="not an empty directory"):
        backups.backup(NoStack(), tmp_path / "x")


def test_the_project_name_is_read_like_compose_reads_it(tmp_path, monkeypatch):
    """-p first, then COMPOSE_PROJECT_NAME from the environment, then from `.env`."""
    (tmp_path / "compose.yaml").write_text("name: extagram\n")
    for var in ("COMPOSE_PROJECT_NAME", "EXTAGRAM_OPS_ENV_FILE", "EXTAGRAM_OPS_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert Project(directory=tmp_path).name == "extagram"
    (tmp_path / ".env").write_text('# mine\nexport COMPOSE_PROJECT_NAME="photos"  # prod\n')
    assert Project(directory=tmp_path).name == "photos"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "from-shell")
    assert Project(directory=tmp_path).name == "from-shell"
    assert Project("given", tmp_path).name == "given"
    monkeypatch.delenv("COMPOSE_PROJECT_NAME")
    other = tmp_path / "other.env"
    other.write_text("COMPOSE_PROJECT_NAME=elsewhere\n")
    monkeypatch.setenv("EXTAGRAM_OPS_ENV_FILE", str(other))  # the env file compose is given
    assert Project(directory=tmp_path).name == "elsewhere"


def test_the_cli_operates_the_project_named_in_dot_env(tmp_path, monkeypatch, capsys):
    _fake_docker(tmp_path, monkeypatch, 'case "$1" in info) echo 20.10;; *) exit 0;; esac\n')
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    monkeypatch.delenv("EXTAGRAM_OPS_ENV_FILE", raising=False)
    (tmp_path / "compose.yaml").write_text("name: extagram\n")
    (tmp_path / ".env").write_text("COMPOSE_PROJECT_NAME=photos\n")
    assert cli.main(["--project-dir", str(tmp_path), "deploy", "v2"]) == 1
    assert "compose project 'photos'" in capsys.readouterr().err


def test_manage_runs_the_command_in_a_one_off_app_container(monkeypatch, capsys, tmp_path):
    # the fake engine records what it was asked, and exits as the command would
    log = tmp_path / "calls"
    script = f'case "$*" in info*) echo 20.10;; *) echo "$@" >> {log}; exit 3;; esac\n'
    _fake_docker(tmp_path, monkeypatch, script)
    assert cli.main(["-p", "p1", "manage", "createsuperuser", "--username", "ana"]) == 3
    call, removal = log.read_text().splitlines()
    assert call.startswith("compose -p p1 ")
    name = re.search(r" --name (p1-manage-[0-9a-f]{6}) ", call)[1]
    assert call.endswith(
        f"run --rm --no-deps --name {name} -T app python manage.py createsuperuser --username ana"
    )
    assert removal == f"rm --force {name}"


def test_manage_removes_its_container_when_the_terminal_closes(tmp_path):
    # the operator's SSH session drops: SIGHUP ends the CLI and compose's client, and the
    # one-off container, which no one told, ran on
    log = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(
        f'#!/bin/sh\necho "$@" >> {log}\ncase "$*" in info*) echo 20.10;;'
        ' *" config --format json") echo {};; compose*) exec sleep 30;; esac\n'
    )
    (bin_dir / "docker").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    env["EXTAGRAM_OPS_STATE_DIR"] = str(tmp_path / "state")
    program = "import sys; from extagram_ops import cli; sys.exit(cli.main(sys.argv[1:]))"
    command = [sys.executable, "-c", program, "-p", "p1", "manage", "shell"]
    cli_process = subprocess.Popen(command, env=env, cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while " run " not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "compose run was never called"
        time.sleep(0.05)
    cli_process.send_signal(signal.SIGHUP)
    _, said = cli_process.communicate(timeout=30)
    assert cli_process.returncode == 128 + signal.SIGHUP, said
    assert b"Traceback" not in said, said
    run = next(line for line in log.read_text().splitlines() if " run " in line)
    name = re.search(r" --name (\S+) ", run)[1]
    assert f"rm --force {name}" in log.read_text().splitlines()


def test_manage_without_a_command_says_which_to_give(monkeypatch, capsys, tmp_path):
    _fake_docker(tmp_path, monkeypatch, 'case "$1" in info) echo 20.10;; *) exit 0;; esac\n')
    assert cli.main(["-p", "p1", "manage"]) == 1
    assert "say which manage.py command to run" in capsys.readouterr().err


def test_output_piped_into_a_reader_that_stops_ends_without_a_traceback(tmp_path):
    # `extagram-ops status | head -4`: the reader leaves while the command still prints
    program = (
        "import sys; from extagram_ops import cli\n"
        "def talkative(project, args):\n"
        "    for n in range(200000): print('service', n)\n"
        "    return 0\n"
        "cli.COMMANDS['swarm-config'] = talkative\n"
        "cli.needs_engine = lambda args: False\n"
        "sys.exit(cli.main(['swarm-config']))\n"
    )
    pipeline = f'{sys.executable} -c "$PROGRAM" | head -4'
    result = subprocess.run(
        ["sh", "-c", pipeline],
        env={**os.environ, "PROGRAM": program},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines() == [f"service {n}" for n in range(4)]
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_a_backup_is_refused_while_a_deploy_holds_the_lock(monkeypatch, capsys, tmp_path):
    # a deploy, rollback or scale replaces the containers a backup reads from
    _fake_docker(tmp_path, monkeypatch, 'case "$1" in info) echo 20.10;; *) exit 0;; esac\n')
    monkeypatch.setattr(Project, "require_stack", lambda project: None)
    called = []
    monkeypatch.setattr(backups, "backup", lambda *args, **kwargs: called.append(args))
    with State("p1").lock():  # the deploy's
        assert cli.main(["-p", "p1", "backup", str(tmp_path / "b")]) == 1
    assert "another extagram-ops operation is running" in capsys.readouterr().err
    assert called == []


def test_a_network_whose_subnet_the_settings_changed_is_refused(monkeypatch, tmp_path):
    # compose.yaml gives front 10.9.0.0/24 now; the running stack's has 10.8.0.0/24
    front = {"name": "p1_front", "ipam": {"config": [{"subnet": "10.9.0.0/24"}]}}
    (tmp_path / "config.json").write_text(json.dumps({"networks": {"front": front}}))
    running = tmp_path / "ipam.json"
    running.write_text('[{"Subnet": "10.8.0.0/24"}]')
    script = f"""case "$*" in
*" config --format json") cat {tmp_path}/config.json;;
"network inspect p1_front"*) cat {running} 2>/dev/null || exit 1;;
*) exit 0;;
esac
"""
    _fake_docker(tmp_path, monkeypatch, script)
    project = Project("p1", tmp_path)
    with pytest.raises(OpsError, match=r"front network \(p1_front\) has subnet 10.8.0.0/24"):
        project.compose("up", "-d")
    running.write_text('[{"Subnet": "10.9.0.0/24"}]')
    project.compose("up", "-d")
    running.unlink()  # not made yet: compose makes it
    project.compose("up", "-d")


@pytest.mark.parametrize(
    "command",
    [["scale", "app=3"], ["deploy", "v2"], ["rollback"], ["restore", "bk"], ["manage", "check"]],
)
def test_a_command_that_makes_containers_refuses_another_subnet_first(
    command, monkeypatch, tmp_path, capsys
):
    # restore had replaced the database before the refusal, and scale and deploy said
    # they were creating containers and running migrations (helper-67's trial)
    front = {"name": "p1_front", "ipam": {"config": [{"subnet": "10.9.0.0/24"}]}}
    (tmp_path / "config.json").write_text(json.dumps({"networks": {"front": front}}))
    log = tmp_path / "calls"
    script = f"""echo "$@" >> {log}
case "$*" in
info*) echo 20.10;;
*" config --format json") cat {tmp_path}/config.json;;
"network inspect p1_front"*) echo '[{{"Subnet": "10.8.0.0/24"}}]';;
*) exit 0;;
esac
"""
    _fake_docker(tmp_path, monkeypatch, script)
    assert cli.main(["-p", "p1", "--project-dir", str(tmp_path), *command]) == 1
    said = capsys.readouterr()
    assert "front network (p1_front) has subnet 10.8.0.0/24" in said.err
    assert "[" not in said.err.split("error:")[0]  # no progress line before it
    asked = [line.split()[0] for line in log.read_text().splitlines()]
    assert set(asked) <= {"info", "compose", "network"}, asked
