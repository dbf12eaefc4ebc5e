"""Where the CLI remembers, per compose project, the deployed and the previous version.

A small JSON file per project in EXTAGRAM_OPS_STATE_DIR (default
$XDG_STATE_HOME/extagram-ops, i.e. ~/.local/state/extagram-ops), written atomically,
plus a lock file so two operations never run on one project at once.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
from pathlib import Path

from extagram_ops.docker import OpsError


def state_dir() -> Path:
    explicit = os.environ.get("EXTAGRAM_OPS_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "extagram-ops"


# the app tier's image tag in compose.yaml (falls back to EXTAGRAM_VERSION)
VERSION_VAR = "EXTAGRAM_APP_VERSION"


def write_env_version(path: Path, version: str) -> None:
    """Set `EXTAGRAM_APP_VERSION=<version>` in the env file Compose reads (`.env`): the one
    uncommented line is replaced, or one is appended; every other line is kept as it was.
    Written atomically (a temporary file renamed over it), keeping the file's mode."""
    try:
        lines = path.read_text().splitlines()
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        lines, mode = [], 0o644
    setting = f"{VERSION_VAR}={version}"
    found = False
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{VERSION_VAR}="):
            lines[i], found = setting, True
    if not found:
        lines += [
            "# the version extagram-ops deployed last (a plain `docker compose up -d` keeps it)",
            setting,
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.extagram-ops-tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(mode)
    os.replace(tmp, path)


class State:
    def __init__(self, project: str, directory: Path | None = None):
        self.project = project
        self.dir = directory or state_dir()
        self.path = self.dir / f"{project}.json"

    def load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"project": self.project, "current": None, "previous": None, "history": []}
        except (OSError, ValueError) as error:
            raise OpsError(f"cannot read the state file {self.path}: {error}") from None

    def save(self, data: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(tmp, self.path)

    def record(self, action: str, version: str, previous: str | None) -> dict:
        """A completed deploy/rollback: `current` = version, `previous` = what ran before,
        a history entry; any recorded incomplete operation is over. The new state."""
        data = self.load()
        data["current"] = version
        data["previous"] = previous
        data.pop("incomplete", None)
        self._history(data, {"action": action, "version": version, "from": previous})
        self.save(data)
        return data

    def record_failure(
        self,
        action: str,
        version: str,
        previous: str | None,
        before: dict[str, str | None],
        tiers: dict[str, str | None],
    ) -> dict:
        """A deploy/rollback to `version` that failed. `current`/`previous` keep the last
        completed operation's; `before` and `tiers` are {service: the version it ran
        before the operation / runs now}. A history entry is added; if the tiers do not
        all run one version the mixed state is kept under "incomplete" ({"action",
        "version", "tiers"}) until a later deploy/rollback completes. The new state."""
        data = self.load()
        undone = tiers == before
        entry = {"action": action, "version": version, "from": previous, "tiers": tiers}
        entry["outcome"] = "failed, switched back" if undone else "failed, left mixed"
        if len(set(tiers.values())) == 1:
            data.pop("incomplete", None)
        elif not (undone and data.get("incomplete")):  # else: still the earlier one's
            data["incomplete"] = {"action": action, "version": version, "tiers": tiers}
        self._history(data, entry)
        self.save(data)
        return data

    @staticmethod
    def _history(data: dict, entry: dict) -> None:
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        data.setdefault("history", []).append({"at": stamp, **entry})
        data["history"] = data["history"][-50:]

    @contextlib.contextmanager
    def lock(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f"{self.project}.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OpsError(
                    f"another extagram-ops operation is running on project {self.project!r}"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
