"""The throwaway-stack helpers that need no Docker: whose run is alive, what a stack's
environment leaves out, the multipart encoder, a stack that fails to start is removed."""

import subprocess
import sys
from email.parser import BytesParser

import pytest

from extagram_ops import throwaway


def test_a_project_is_alive_exactly_while_its_run_holds_the_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(throwaway, "LOCK_DIR", tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from extagram_ops import throwaway as t; "
            "t.LOCK_DIR = pathlib.Path(sys.argv[1]); t.hold_project_lock('p-1'); "
            "print('held', flush=True); sys.stdin.read()",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert throwaway.run_is_alive("p-1")
        assert not throwaway.run_is_alive("p-2")  # no run ever held it
    finally:
        holder.kill()  # like a run killed before it could clean up
        holder.wait()
    assert not throwaway.run_is_alive("p-1")


def test_a_stack_environment_leaves_the_operators_settings_out(monkeypatch):
    for var in ("EXTAGRAM_APP_VERSION", "EXTAGRAM_IMAGE_PREFIX", "COMPOSE_PROJECT_NAME"):
        monkeypatch.setenv(var, "operator's")
    env = throwaway.loopback_env("t1", EXTAGRAM_UPLOAD_MAX_MB="2")
    assert not {"EXTAGRAM_APP_VERSION", "EXTAGRAM_IMAGE_PREFIX", "COMPOSE_PROJECT_NAME"} & set(env)
    assert (env["EXTAGRAM_VERSION"], env["EXTAGRAM_BIND"], env["EXTAGRAM_UPLOAD_MAX_MB"]) == (
        "t1",
        "127.0.0.1",
        "2",
    )
    assert env["EXTAGRAM_PORT"] != env["EXTAGRAM_HTTPS_PORT"]


def test_the_multipart_body_parses_back_into_its_fields_and_file():
    body, content_type = throwaway.encode_multipart(
        {"caption": "café ☕", "n": 3}, {"photo": ("p.jpg", b"\xff\xd8jpeg", "image/jpeg")}
    )
    message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = {p.get_param("name", header="content-disposition"): p for p in message.get_payload()}
    assert parts["caption"].get_payload(decode=True).decode() == "café ☕"
    assert parts["n"].get_payload(decode=True) == b"3"
    assert parts["photo"].get_filename() == "p.jpg"
    assert parts["photo"].get_content_type() == "image/jpeg"
    assert parts["photo"].get_payload(decode=True) == b"\xff\xd8jpeg"


class FailingCompose:
    """A Project whose `up` fails (a port taken, an image missing): records compose calls."""

    def __init__(self, fail_on="up"):
        self.calls, self.fail_on = [], fail_on

    def compose(self, *args, **kwargs):
        self.calls.append(args)
        if args[0] == self.fail_on:
            raise throwaway.OpsError(f"docker compose {args[0]} failed")


def _stack(tmp_path, monkeypatch, cls=throwaway.Stack):
    monkeypatch.setattr(throwaway, "LOCK_DIR", tmp_path)
    monkeypatch.setattr(throwaway, "_HELD_LOCKS", {})
    env = throwaway.loopback_env("t1")
    stack = cls(env, "extagram-test-leak")
    stack.ops = FailingCompose()
    return stack


def test_a_stack_that_fails_to_start_is_removed_with_its_volumes(tmp_path, monkeypatch):
    stack = _stack(tmp_path, monkeypatch)
    with pytest.raises(throwaway.OpsError, match="compose up failed"):
        stack.up()
    assert stack.ops.calls[-1] == ("down", "--remove-orphans", "-v")


def test_a_stack_that_never_gets_healthy_is_removed_with_its_volumes(tmp_path, monkeypatch):
    stack = _stack(tmp_path, monkeypatch)
    stack.ops.fail_on = None

    def unhealthy(*args, **kwargs):
        raise KeyboardInterrupt  # or OpsError: anything that ends the wait

    monkeypatch.setattr(stack, "wait_healthy", unhealthy)
    with pytest.raises(KeyboardInterrupt):
        stack.up()
    assert stack.ops.calls == [("up", "-d"), ("down", "--remove-orphans", "-v")]


@pytest.mark.parametrize("fail_on, build", [("up", False), ("build", True)])
def test_a_drill_stack_that_fails_to_build_or_start_is_removed(
    fail_on, build, tmp_path, monkeypatch
):
    from drills import common

    stack = _stack(tmp_path, monkeypatch, common.DrillStack)
    stack.ops.fail_on = fail_on
    monkeypatch.setattr(common.DrillStack, "create", classmethod(lambda *a, **k: stack))
    monkeypatch.setenv("DRILL_NO_BUILD", "")
    with pytest.raises(throwaway.OpsError, match=f"compose {fail_on} failed"):
        common.new_stack("leak", build=build)
    assert stack.ops.calls[-1] == ("down", "--remove-orphans", "-v")


def test_a_bench_stack_that_fails_to_start_is_removed(tmp_path, monkeypatch):
    from bench.stack import BenchStack

    stack = _stack(tmp_path, monkeypatch, BenchStack)
    with pytest.raises(throwaway.OpsError):
        stack.timed_up()
    assert stack.ops.calls[-1] == ("down", "--remove-orphans", "-v")
