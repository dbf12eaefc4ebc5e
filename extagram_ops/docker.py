"""The compose project the CLI operates on: docker/compose calls and container queries.

The one Docker/Compose runner of the repository: the CLI, the drills, the bench and the
stack tests all go through Project (extagram_ops.throwaway builds their stacks on it).

Everything that only needs existing containers goes through `docker` with the compose
labels (so it works whatever environment the stack was started with); only creating
containers goes through `docker compose`, which reads compose.yaml with the current
environment (and `.env`): run the CLI with the same settings as `docker compose up`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.template.defaultfilters import pluralize
from dotenv import dotenv_values

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
VERSION_LABEL = "org.opencontainers.image.version"
# compose.yaml's default: a registry host that can never resolve (RFC 6761)
IMAGE_PREFIX = "extagram.invalid"
LONG_RUNNING = ("proxy", "app", "upload", "media", "static", "db", "cache")


class OpsError(Exception):
    """A failure the CLI reports in one clear message (exit status 1)."""


def docker(*args, env=None, check=True, timeout=300, input=None, stdout=None, text=True):
    """Run `docker ARGS` (the one place the repository starts the docker CLI; Project and
    the throwaway stacks go through it): the CompletedProcess, stdout and stderr captured
    (stdout to `stdout` if given). OpsError when there is no docker command, when it runs
    longer than `timeout` seconds, or (with `check`) when it fails."""
    try:
        result = subprocess.run(
            ["docker", *args],
            env=env,
            input=input,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=text,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise OpsError("no `docker` command on PATH") from None
    except subprocess.TimeoutExpired:
        raise OpsError(f"`docker {args[0]}` took longer than {timeout}s") from None
    if check and result.returncode != 0:
        err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
        raise OpsError(f"docker {' '.join(args[:3])} failed: {err.strip()[-1500:]}")
    return result


_said = {"last": None}


def progress(message: str) -> None:
    """`[HH:MM:SS] message` on stderr, unless it repeats the line before. A closed stderr
    (the operator's pipe or terminal gone) silences the rest, and never stops the
    operation half-way: a rotation cut there left two passwords in use (helper-72)."""
    if message == _said["last"]:
        return
    _said["last"] = message
    stamp = time.strftime("%H:%M:%S")
    try:
        print(f"[{stamp}] {message}", file=sys.stderr, flush=True)
    except OSError:  # BrokenPipeError among them
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 -- for the rest of the process


def _subnets(ipam_config: list | None, key: str) -> list[str]:
    return sorted(entry[key] for entry in ipam_config or [] if entry.get(key))


def _leave(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _signals_handled(handlers: dict):
    """For the block, each signal of `handlers` ({signal: handler}) handled so; the
    handlers before are put back after it. Main thread only (a rule of Python's
    signal.signal: ValueError elsewhere)."""
    previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def ended_by_hangup():
    """For the block, a hang-up or a termination of this process (SIGHUP: the operator's
    terminal or SSH session closed; SIGTERM) raises SystemExit(128 + the signal's number)
    instead of ending it on the spot, so the block's `finally` still removes what it
    started (a one-off container or task, which outlives the docker client it was started
    by)."""
    return _signals_handled({signal.SIGHUP: _leave, signal.SIGTERM: _leave})


def continues_after_hangup():
    """For the block, a hang-up (SIGHUP) is ignored, so an operation runs to its end rather
    than stopping half-way; a termination (SIGTERM) raises SystemExit(143), so the block's
    `finally` still runs."""
    return _signals_handled({signal.SIGHUP: signal.SIG_IGN, signal.SIGTERM: _leave})


def find_project_dir(start: Path | None = None) -> Path:
    """The folder with compose.yaml: EXTAGRAM_OPS_DIR, else the cwd or a parent of it."""
    env = os.environ.get("EXTAGRAM_OPS_DIR")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "compose.yaml").is_file():
            return folder
    repo = Path(__file__).resolve().parents[1]
    if (repo / "compose.yaml").is_file():
        return repo
    raise OpsError(
        "no compose.yaml here or above: run from the Extagram folder or set EXTAGRAM_OPS_DIR"
    )


def compose_variable(env: dict, env_file: Path, name: str) -> str:
    """Variable `name` as Compose reads it: the environment's, else the one in the env
    file (`.env`, parsed with python-dotenv: quotes, `export`, comments), else "". An
    empty value counts as unset, as in Compose. OpsError if the file cannot be read."""
    if env.get(name):
        return env[name]
    if env_file.is_file():
        try:
            return dotenv_values(env_file).get(name) or ""
        except (OSError, UnicodeDecodeError) as error:
            raise OpsError(f"cannot read {env_file}: {error}") from None
    return ""


def project_name(env: dict, env_file: Path) -> str:
    """The compose project's name as Compose picks it when no `-p` is given:
    COMPOSE_PROJECT_NAME (compose_variable), else compose.yaml's top-level `name:
    extagram`."""
    return compose_variable(env, env_file, "COMPOSE_PROJECT_NAME") or "extagram"


@dataclass
class Container:
    id: str
    name: str
    service: str
    number: int
    status: str  # running, exited, created, restarting, ...
    health: str  # healthy, unhealthy, starting, none
    version: str
    image: str
    restart_count: int
    networks: dict
    started_at: str = ""  # Docker's RFC 3339 time of the last start
    data: dict = field(default_factory=dict, repr=False)  # all of `docker inspect`

    @classmethod
    def from_inspect(cls, data: dict) -> Container:
        labels = data["Config"].get("Labels") or {}
        state = data["State"]
        return cls(
            id=data["Id"],
            name=data["Name"].lstrip("/"),
            service=labels.get(SERVICE_LABEL, "?"),
            number=int(labels.get(NUMBER_LABEL, "0") or 0),
            status=state["Status"],
            health=(state.get("Health") or {}).get("Status", "none"),
            version=labels.get(VERSION_LABEL, ""),
            image=data["Config"]["Image"],
            restart_count=int(data.get("RestartCount", 0)),
            networks=(data.get("NetworkSettings") or {}).get("Networks") or {},
            started_at=state.get("StartedAt", ""),
            data=data,
        )

    @property
    def short(self) -> str:
        return self.name


class Project:
    def __init__(self, name: str | None = None, directory: Path | None = None, env=None):
        self.directory = directory or find_project_dir()
        self.env = dict(os.environ if env is None else env)
        self.prefix = self.env.get("EXTAGRAM_IMAGE_PREFIX") or IMAGE_PREFIX
        # the file Compose reads its variables from: `.env` in the project folder, unless
        # EXTAGRAM_OPS_ENV_FILE names another (then every compose call here reads that)
        explicit = self.env.get("EXTAGRAM_OPS_ENV_FILE")
        self.env_file = Path(explicit) if explicit else self.directory / ".env"
        self.name = name or project_name(self.env, self.env_file)

    # ---- raw calls
    def docker(self, *args, check=True, timeout=300, input=None, stdout=None, text=True):
        """`docker ARGS` with the project's environment (see the module's docker())."""
        return docker(
            *args, env=self.env, check=check, timeout=timeout, input=input, stdout=stdout, text=text
        )

    def stream(self, container_id: str, cmd: list[str], sink, stdin=None) -> str:
        """`docker exec` whose stdout goes to sink(bytes) chunk by chunk as it comes, and
        whose stdin (if given) is fed from an iterable of bytes. Returns its stderr
        (lines that look like credentials left out); OpsError if it fails."""
        args = ["docker", "exec"] + (["-i"] if stdin is not None else []) + [container_id, *cmd]
        proc = subprocess.Popen(
            args,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        )
        errors = []
        reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        reader.start()
        writer = None
        if stdin is not None:

            def feed():
                try:
                    for chunk in stdin:
                        proc.stdin.write(chunk)
                except BrokenPipeError:
                    pass
                finally:
                    with contextlib.suppress(BrokenPipeError):
                        proc.stdin.close()

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
        for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
            sink(chunk)
        if writer:
            writer.join()
        code = proc.wait()
        reader.join()
        message = (errors[0] if errors else b"").decode("utf-8", "replace").strip()
        # never echo anything that might look like a credential line
        message = "\n".join(
            x for x in message.splitlines() if "password" not in x.lower() or "denied" in x.lower()
        )
        if code != 0:
            raise OpsError(
                f"`{' '.join(cmd[:1])}` in {container_id[:12]} failed ({code}): {message[-1500:]}"
            )
        return message

    def compose(self, *args, env=None, check=True, timeout=600, input=None, text=True):
        """`docker compose -p NAME [--env-file F] ARGS` in the project folder: the
        CompletedProcess (stdout/stderr captured); OpsError if it fails and `check`.
        Commands that make containers (up, run, create) first check the networks
        (check_networks: OpsError before anything is changed)."""
        full_env = dict(self.env)
        full_env.update(env or {})
        if args and args[0] in ("up", "run", "create"):
            self.check_networks(full_env)
        return self._compose(args, full_env, check, timeout, input, text)

    def _compose(self, args, full_env, check=True, timeout=600, input=None, text=True):
        env_file = ["--env-file", str(self.env_file)] if self.env_file.is_file() else []
        try:
            result = subprocess.run(
                ["docker", "compose", "-p", self.name, *env_file, *args],
                cwd=self.directory,
                env=full_env,
                input=input,
                capture_output=True,
                text=text,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise OpsError(f"`docker compose {args[0]}` took longer than {timeout}s") from None
        if check and result.returncode != 0:
            out = result.stdout if text else result.stdout.decode(errors="replace")
            err = result.stderr if text else result.stderr.decode(errors="replace")
            raise OpsError(
                f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{out.strip()[-2000:]}\n{err.strip()[-2000:]}"
            )
        return result

    def config(self, env: dict | None = None) -> dict:
        """compose.yaml as Compose reads it with `env` (the project's environment by
        default): `docker compose config --format json`, parsed; OpsError if it fails."""
        return json.loads(
            self._compose(("config", "--format", "json"), env or dict(self.env)).stdout
        )

    def networks_by_service(self) -> dict[str, list[str]]:
        """The networks compose.yaml puts each service on, by their engine names
        ({"proxy": ["extagram_front"], ...}); OpsError if Compose cannot read the file."""
        config = self.config()
        names = {
            key: spec.get("name") or self.network(key)
            for key, spec in (config.get("networks") or {}).items()
        }
        return {
            service: sorted(names.get(key, self.network(key)) for key in spec.get("networks") or {})
            for service, spec in (config.get("services") or {}).items()
        }

    def check_networks(self, env: dict | None = None) -> None:
        """OpsError when a network of the running stack has other subnets than compose.yaml
        gives it with these settings (`env`: the environment compose would get; the
        project's by default), say EXTAGRAM_FRONT_SUBNET set when the stack was started
        and not now. Compose then removes the network to make it again: it stopped the
        app containers, took them off it, and failed on the proxy's and the file tiers'
        endpoints, leaving the site answering 503 (tried on Compose 2.40). Networks not
        made yet pass."""
        for key, spec in (self.config(env).get("networks") or {}).items():
            wanted = _subnets((spec.get("ipam") or {}).get("config"), "subnet")
            name = spec.get("name") or self.network(key)
            if not wanted:
                continue
            found = self.docker(
                "network", "inspect", name, "--format", "{{json .IPAM.Config}}", check=False
            )
            if found.returncode != 0:
                continue
            running = _subnets(json.loads(found.stdout), "Subnet")
            if running != wanted:
                raise OpsError(
                    f"the stack's {key} network ({name}) has subnet {', '.join(running)}, and "
                    f"these settings give {', '.join(wanted)}: Compose would remove it and cut "
                    "the proxy off from the app. Run with the settings the stack was started "
                    "with (EXTAGRAM_FRONT_SUBNET; keep them in .env)"
                )

    def run_migrations(self, version: str | None, timeout: float) -> str:
        """Run `manage.py migrate` of the images tagged `version` (None: the version the
        project's env file names, what `up` runs) once, in a one-off container of the
        `migrate` service, never pulling or building; returns its output. OpsError if
        it fails. `timeout` is for the swarm's job; Compose waits for the container."""
        from extagram_ops.state import VERSION_VAR  # state imports this module

        env = {VERSION_VAR: version} if version else {}
        result = self.compose(
            "run", "--pull", "never", "--rm", "--no-deps", "-T", "migrate", env=env, check=False
        )
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise OpsError(f"migrations of {version or 'the stack'} failed:\n{output[-2000:]}")
        return output

    def manage(self, args: list[str], timeout: float) -> int:
        """Run `python manage.py ARGS` (createsuperuser, shell...) in a one-off container
        of the app's image (`docker compose run --rm --no-deps app`: its settings,
        secrets and networks, none of a running replica's memory) with this terminal, and
        return its exit status. Not `exec` into an app replica: the command's ~50 MB went
        over the replica's 128 MB and the kernel killed a worker serving the site.
        The container goes when this process ends, by a closed terminal too
        (ended_by_hangup). `timeout` is for the swarm's one-off task; Compose starts its
        container at once."""
        terminal = [] if sys.stdin.isatty() and sys.stdout.isatty() else ["-T"]
        env_file = ["--env-file", str(self.env_file)] if self.env_file.is_file() else []
        self.check_networks()
        name = f"{self.name}-manage-{secrets.token_hex(3)}"
        command = ["docker", "compose", "-p", self.name, *env_file, "run", "--rm", "--no-deps"]
        command += ["--name", name, *terminal, "app", "python", "manage.py", *args]
        with ended_by_hangup():
            try:
                return subprocess.call(command, cwd=self.directory, env=self.env)
            finally:  # gone already (--rm) unless the terminal dropped: compose's client
                # then ends and the container, not told, runs on (a helper's trial)
                self.docker("rm", "--force", name, check=False)

    def check_engine(self):
        if self.docker("info", "--format", "{{.ServerVersion}}", check=False).returncode != 0:
            raise OpsError("no Docker engine answering `docker info`")

    # ---- containers
    def containers(self, service: str | None = None, all: bool = False) -> list[Container]:
        """The project's service containers, as `docker compose ps` selects them: Compose
        stamps the project label on the images it builds too, so any container made from
        them (`docker run`, another engine's task) carries it; only the containers Compose
        creates for a service carry `oneoff=False` (`compose run` ones: True)."""
        args = ["ps", "-q", "--no-trunc", "--filter", f"label={PROJECT_LABEL}={self.name}"]
        args += ["--filter", f"label={ONEOFF_LABEL}=False"]
        if all:
            args.insert(1, "-a")
        if service:
            args += ["--filter", f"label={SERVICE_LABEL}={service}"]
        ids = self.docker(*args).stdout.split()
        if not ids:
            return []
        found = self.inspect(*ids)
        if service:  # the label filter matches prefixes on some engines? be exact
            found = [c for c in found if c.service == service]
        return sorted(found, key=lambda c: (c.service, c.number))

    def inspect(self, *ids) -> list[Container]:
        out = self.docker("inspect", *ids, check=False)
        if out.returncode != 0 and not out.stdout.strip():
            return []
        return [Container.from_inspect(d) for d in json.loads(out.stdout or "[]")]

    def running(self, service: str) -> list[Container]:
        return [c for c in self.containers(service) if c.status in ("running", "restarting")]

    def require_stack(self) -> None:
        if not self.running("app"):
            raise OpsError(
                f"no running app containers in compose project {self.name!r} "
                "(start it with `docker compose up -d`, or pass --project-name)"
            )

    def network(self, short: str) -> str:
        return f"{self.name}_{short}"

    def image(self, repo: str, version: str) -> str:
        return f"{self.prefix}/{repo}:{version}"

    def image_exists(self, ref: str) -> bool:
        return self.docker("image", "inspect", ref, check=False).returncode == 0

    def current_version(self, service: str = "app") -> str | None:
        versions = sorted({c.version for c in self.running(service) if c.version})
        if len(versions) == 1:
            return versions[0]
        if not versions:
            return None
        return ",".join(versions)

    def exec(
        self,
        container: Container,
        *cmd,
        input=None,
        stdout=None,
        text=True,
        timeout=600,
        check=True,
        user=None,
    ):
        args = ["exec", "-i"] if input is not None else ["exec"]
        if user:
            args += ["-u", user]
        return self.docker(
            *args,
            container.id,
            *cmd,
            input=input,
            stdout=stdout,
            text=text,
            timeout=timeout,
            check=check,
        )

    def one(self, service: str) -> Container:
        running = [c for c in self.running(service) if c.status == "running"]
        if not running:
            raise OpsError(f"service {service!r} has no running container in {self.name!r}")
        return running[0]

    def stats(self, containers: list[Container]) -> dict[str, Stats]:
        """One `docker stats --no-stream` of the containers: {container id: Stats}
        (containers it did not report are left out)."""
        if not containers:
            return {}
        out = self.docker(
            "stats",
            "--no-stream",
            "--format",
            "{{.ID}}\t{{.Name}}\t{{.MemUsage}}\t{{.CPUPerc}}",
            *[c.id for c in containers],
            check=False,
            timeout=60,
        ).stdout
        found = {}
        for line in out.strip().splitlines():
            short, name, usage, cpu = (line.split("\t") + ["", "", ""])[:4]
            cid = next((c.id for c in containers if c.id.startswith(short)), None)
            if cid:
                used, _, limit = usage.partition(" / ")
                found[cid] = Stats(name, parse_mib(used), used.strip(), limit.strip(), cpu)
        return found


@dataclass
class Stats:
    """A container's memory and CPU as `docker stats` printed them."""

    name: str
    mib: float  # memory in use, MiB
    used: str  # e.g. "41.2MiB"
    limit: str  # e.g. "128MiB"
    cpu: str  # e.g. "0.15%"


def wait_healthy(
    project: Project,
    containers: list[Container],
    timeout: float,
    poll: float = 1.0,
    restarted: bool = False,
    say=progress,
) -> float:
    """Until every container runs and is healthy (or has no healthcheck); the seconds
    it took. With `restarted`, each must first have started again since the Container
    given (another StartedAt: a crashed container brought back by its restart policy).
    Raises OpsError on timeout, or (without `restarted`) as soon as one turns unhealthy,
    exits or restart-loops, quoting its last health-check output and log lines.
    `say(message)` gets a progress line every 5 s (None: quiet)."""
    started = time.monotonic()
    last_report = started
    before = {c.id: c.started_at for c in containers}
    while True:
        now = project.inspect(*before)
        if len(now) != len(before):
            raise OpsError("a container disappeared while starting")

        def ready(c):
            fresh = not restarted or c.started_at != before[c.id]
            return fresh and c.status == "running" and c.health in ("healthy", "none")

        if all(ready(c) for c in now):
            if say:
                say(f"{len(now)}/{len(now)} container{pluralize(len(now))} healthy")
            return time.monotonic() - started
        broken = [
            c
            for c in now
            if c.health == "unhealthy" or c.status in ("exited", "dead") or c.restart_count >= 2
        ]
        if broken and not restarted:
            reasons = "\n  ".join(_reason(project, c) for c in broken)
            n = len(broken)
            raise OpsError(
                f"{n} container{pluralize(n)} failed {pluralize(n, 'its,their')} health "
                f"check{pluralize(n)}:\n  {reasons}"
            )
        if time.monotonic() - started > timeout:
            late = [c for c in now if not ready(c)]
            reasons = "\n  ".join(_reason(project, c) for c in late)
            raise OpsError(
                f"{len(late)} container{pluralize(len(late))} not healthy after "
                f"{timeout:.0f}s:\n  {reasons}"
            )
        if say and time.monotonic() - last_report >= 5:
            states = ", ".join(f"{c.name} {c.status}/{c.health}" for c in now)
            say(f"waiting for health: {states}")
            last_report = time.monotonic()
        time.sleep(poll)


def _reason(project: Project, c: Container) -> str:
    detail = ""
    state = c.data.get("State") or {}
    log = (state.get("Health") or {}).get("Log") or []
    if log:
        detail = f"last health check: {log[-1].get('Output', '').strip()[:300]!r}"
    if state.get("Status") in ("exited", "dead"):
        detail = f"exited with code {state.get('ExitCode')}; " + detail
    logs = project.docker("logs", "--tail", "12", c.id, check=False)
    tail = (logs.stdout + logs.stderr).strip().splitlines()[-12:]
    return f"{c.name}: {c.status}/{c.health} {detail}\n    " + "\n    ".join(tail)


# Where a container's cgroup is on the engine's host: cgroup v1 and v2, with the engine's
# cgroupfs or systemd cgroup driver.
CGROUP_DIRS = (
    "memory/docker/{id}",
    "memory/system.slice/docker-{id}.scope",
    "docker/{id}",
    "system.slice/docker-{id}.scope",
)


def page_cache_mib(container_id: str, root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """MiB of page cache that `docker stats` counts in the container's memory, or None
    where its cgroup is not readable from here (an engine on another host, say).

    `docker stats` shows the cgroup's usage less its inactive page cache (docker/cli,
    cli/command/container/stats_helpers.go, calculateMemUsageUnixNoCache), so the active
    page cache is in that figure: files the container read more than once, its mapped
    binaries and libraries, charged to the first container to read them after they were
    (re)cached. This is `total_active_file` of memory.stat on cgroup v1, `active_file` on v2.
    """
    for pattern in CGROUP_DIRS:
        stat = root / pattern.format(id=container_id) / "memory.stat"
        try:
            lines = stat.read_text().splitlines()
        except OSError:
            continue
        values = dict(line.split(" ", 1) for line in lines if " " in line)
        found = values.get("total_active_file", values.get("active_file"))
        if found is not None:
            return int(found) / 1024 / 1024
    return None


def parse_mib(text: str) -> float:
    text = text.split("/")[0].strip()
    for unit, factor in (
        ("GiB", 1024),
        ("MiB", 1),
        ("KiB", 1 / 1024),
        ("kB", 1 / 1024),
        ("MB", 1),
        ("B", 1 / 1024 / 1024),
    ):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * factor
            except ValueError:
                return 0.0
    return 0.0
