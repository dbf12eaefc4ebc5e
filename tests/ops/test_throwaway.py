"""The throwaway-stack helpers that need no Docker: whose run is alive, what a stack's
environment leaves out, the multipart encoder."""

import subprocess
import sys
from email.parser import BytesParser

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
