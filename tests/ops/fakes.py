"""Fakes shared by the ops tests."""


def fake_docker(tmp_path, monkeypatch, script):
    """Put a `docker` on PATH that runs `script` (sh, its arguments in "$@"), and give the
    CLI a state folder under tmp_path. `docker compose ... config --format json` prints
    {} unless the script answers it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    if "config --format json" not in script:  # compose.yaml with no networks
        script = 'case "$*" in *" config --format json") echo {}; exit 0;; esac\n' + script
    docker.write_text("#!/bin/sh\n" + script)
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("EXTAGRAM_OPS_STATE_DIR", str(tmp_path / "state"))
