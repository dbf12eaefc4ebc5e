"""extagram-ops: operate an Extagram compose stack.

    extagram-ops status
    extagram-ops deploy v2            # blue-green roll of app + upload to images tagged v2
    extagram-ops rollback             # back to the version before the last deploy
    extagram-ops scale app=4
    extagram-ops backup /backups/2026-11-28
    extagram-ops backup --verify /backups/2026-11-28
    extagram-ops backup --database-only /backups/2026-11-28  # photos in a bucket: left out
    extagram-ops restore /backups/2026-11-28 [--force] [--prune] [--database-only]
                         [--allow-missing-photos]  # exit 1 if photos the rows name are missing
    extagram-ops swarm-config > stack.yaml   # the swarm stack file (docs/swarm.md)
    extagram-ops --swarm extagram deploy v2  # the same commands on a swarm stack
    extagram-ops --swarm extagram rotate-secret secret_key  # or db_password [--from FILE]

Two modes, chosen on the command line. Compose mode (the default): the stack is the
compose project in the folder with compose.yaml (-p, else COMPOSE_PROJECT_NAME from the
environment or `.env` as Compose reads it, default "extagram"); run the CLI with the
same environment (or `.env`) as `docker compose up`: new containers are created from
compose.yaml with it. Swarm mode (`--swarm STACK`, or
EXTAGRAM_OPS_SWARM=STACK): the stack `docker stack deploy` made, on the swarm whose
manager DOCKER_HOST points at; the engine does the rolling updates, rollbacks and
scaling (extagram_ops.swarm). Exit status 0 on success, 1 when the operation failed (the
message says why; the running stack is left as it was, or, when a deploy or rollback cannot
switch a tier back, the message and the state file say what each tier runs), 2 for bad
usage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from django.template.defaultfilters import pluralize

from extagram_ops import backup as backups
from extagram_ops import rollout, secret_rotation, swarm
from extagram_ops.docker import (
    LONG_RUNNING,
    OpsError,
    Project,
    continues_after_hangup,
    progress,
)
from extagram_ops.state import VERSION_VAR, State, write_env_version

VERSION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
ROLLED = ("app", "upload")


def _version(text: str) -> str:
    if not VERSION_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid image tag")
    return text


def _scale_arg(text: str) -> tuple[str, int]:
    service, sep, count = text.partition("=")
    if not sep or not count.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected SERVICE=N, e.g. app=4")
    if service != "app":
        raise argparse.ArgumentTypeError("only the app service scales (upload, db, ... are single)")
    n = int(count)
    if not 1 <= n <= 16:
        raise argparse.ArgumentTypeError("app replicas must be between 1 and 16")
    return service, n


def _timeout_arg(parser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=120,
        help="seconds to wait for new containers to be healthy (default 120)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="extagram-ops",
        description="Deploy, roll back, scale, back up, restore and inspect an Extagram "
        "compose project or swarm stack with no failed requests.",
        epilog="Progress goes to stderr; results to stdout. Exit 0 ok, 1 failed, 2 usage.",
    )
    parser.add_argument(
        "-p",
        "--project-name",
        help="compose project (default: $COMPOSE_PROJECT_NAME from the environment, else "
        "from the project's .env as Compose reads it, else 'extagram')",
    )
    parser.add_argument(
        "--swarm",
        metavar="STACK",
        default=os.environ.get("EXTAGRAM_OPS_SWARM") or None,
        help="swarm mode: operate the swarm stack STACK through the engine (DOCKER_HOST: "
        "a manager) instead of a compose project (default: $EXTAGRAM_OPS_SWARM)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        help="folder with compose.yaml (default: found from the current "
        "folder upwards, or $EXTAGRAM_OPS_DIR)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "status",
        help="health, version, replicas and memory of each service",
        description="Each service's containers, health, version, replica "
        "count and memory use, and the recorded current/previous version.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "deploy",
        help="roll app and upload to images tagged VERSION, no failed requests",
        description="Blue-green for the app and upload tiers: run the new version's "
        "migrations, start new containers on images tagged VERSION beside the old ones "
        "(unseen by the proxy), wait until they are healthy, put them in the proxy's "
        "rotation, then drain (SIGTERM) and remove the old ones. If a new container never "
        "becomes healthy it is removed and traffic never leaves the old version; a tier "
        "already switched is switched back the same way (failure exits 1 with every tier "
        "on the version it ran, or says what each runs if that failed too). "
        "Migrations must be compatible with the running version (expand first, contract "
        "in a later release). With --swarm: the migrate job runs on VERSION and is waited "
        "for, then `docker service update --image` of app and upload with the stack's "
        "update_config (start-first, automatic rollback); a version the engine rolled back "
        "is reported as a failure (and app is rolled back too if upload fails).",
    )
    p.add_argument(
        "version",
        type=_version,
        metavar="VERSION",
        help="image tag, e.g. v2 (images PREFIX/app:VERSION)",
    )
    _timeout_arg(p)
    p.add_argument(
        "--build",
        action="store_true",
        help="build the VERSION images first (docker compose build app)",
    )
    p.add_argument("--skip-migrate", action="store_true", help="do not run migrations first")
    p.add_argument("--force", action="store_true", help="redeploy even if already on VERSION")

    p = sub.add_parser(
        "rollback",
        help="return to the version before the last deploy",
        description="Deploy (the same blue-green way) the version that was "
        "running before the last deploy or rollback, as recorded in the "
        "state file. Migrations are not reversed. With --swarm: `docker service rollback` "
        "of app and upload (the engine keeps the previous spec; no state file).",
    )
    _timeout_arg(p)

    p = sub.add_parser(
        "scale",
        help="change the number of app replicas (app=N)",
        description="Add replicas (started unseen by the proxy, put in its "
        "rotation once healthy) or remove them (drained with SIGTERM, highest "
        "numbers first). Persist the number with EXTAGRAM_APP_REPLICAS. With --swarm: "
        "`docker service scale`, waiting until N tasks run healthy.",
    )
    p.add_argument("target", type=_scale_arg, metavar="app=N")
    _timeout_arg(p)

    p = sub.add_parser(
        "backup",
        help="database dump + photo files + manifest into DEST",
        description="Consistent database dump (mariadb-dump "
        "--single-transaction inside the db container: writers are never "
        "locked out; credentials stay in the container), every photo file "
        "(from the media volume, or from the S3 bucket when EXTAGRAM_S3_BUCKET "
        "is set: read through the upload container), and manifest.json with "
        "sha256 checksums, row counts and versions. "
        "With --verify, check an existing backup instead.",
    )
    p.add_argument(
        "path",
        type=Path,
        metavar="DEST",
        help="new (or empty) directory; with --verify, the backup to check",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="check the backup at DEST (checksums, dump complete) and restore nothing",
    )
    p.add_argument(
        "--database-only",
        action="store_true",
        help="photos in an S3 bucket only: leave them out (the bucket's versioning keeps "
        "them; docs/swarm.md); the manifest says so",
    )

    p = sub.add_parser(
        "restore",
        help="restore a backup into the running stack, then verify",
        description="Check the backup, load the dump into the running stack "
        "(refused if it already has users or photos, unless --force), empty the "
        "cache, verify the database against the dump, then put the photo files "
        "into the stack's photo storage (the media volume or the S3 bucket, "
        "whichever the stack uses, whichever the backup came from: missing or "
        "different files written, each read back against the manifest's sha256; "
        "files not in the backup are left unless --prune), and check that the photo "
        "files the restored rows name are in the storage: if some are not, exit 1 "
        "saying how many and what to do (the restored data stays), unless "
        "--allow-missing-photos. A database-only "
        "backup restores the database only, into a stack whose photos are in a bucket.",
    )
    p.add_argument("path", type=Path, metavar="SRC")
    p.add_argument("--force", action="store_true", help="replace the data of a non-empty stack")
    p.add_argument(
        "--prune",
        action="store_true",
        help="also delete the stored photo files that the backup does not hold and no "
        "restored row names (default: leave them; the media sweep removes them later)",
    )
    p.add_argument(
        "--database-only",
        action="store_true",
        help="photos in an S3 bucket only: restore the database and leave the bucket as it "
        "is (the database node lost, the bucket intact: docs/swarm.md)",
    )
    p.add_argument(
        "--allow-missing-photos",
        action="store_true",
        help="exit 0 even if photo files the restored rows name are missing from the "
        "storage (default: exit 1 saying how many; the restored data stays either way)",
    )

    p = sub.add_parser(
        "manage",
        help="run a manage.py command (createsuperuser, shell...) beside the stack",
        description="`python manage.py ARGS` in a one-off container of the app's image, "
        "with this terminal (createsuperuser asks its questions): `docker compose run --rm "
        "--no-deps app`. With --swarm: a one-off task of app's image made as the migrate "
        "job's (settings, secrets, back network) on this engine's node, the command exec'd into "
        "it, the task removed afterwards. Not in a running app replica, whose memory limit "
        "it would share. Exits with the command's status.",
    )
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="e.g. createsuperuser")
    _timeout_arg(p)

    p = sub.add_parser(
        "rotate-secret",
        help="a new secret key or database password, rolled out by the engine (--swarm)",
        description="Swarm mode only. Creates a new swarm secret (random, or --from FILE) "
        "and puts it in place with rolling updates, no request failed and nobody signed "
        "out: secret_key in two steps (the new key first accepted as SECRET_KEY_FALLBACKS, "
        "then used, the old one kept as fallback); db_password with the database accepting "
        "both passwords until app, upload and the migrate job use the new one "
        '(docs/swarm.md, "Rotating a secret").',
    )
    p.add_argument("secret", choices=sorted(secret_rotation.ROTATABLE))
    p.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="the new value (default: a random one, as secrets-init makes)",
    )
    _timeout_arg(p)

    sub.add_parser(
        "swarm-config",
        help="print the swarm stack file (for docker stack deploy -c -)",
        description="compose.yaml with deploy/swarm/stack.override.yaml merged over it, "
        "in the form `docker stack deploy` accepts (docs/swarm.md). Reads the same "
        "variables as compose (environment and .env); EXTAGRAM_SWARM_SECRETS_DIR is needed. "
        "With --swarm STACK: names the secrets the running services mount (rotate-secret's) "
        "and warns of versions the file would take back; use it for a running stack.",
    )
    return parser


def cmd_status(project: Project, args) -> int:
    containers = [c for c in project.containers(all=True) if c.service in LONG_RUNNING]
    if not containers:
        raise OpsError(f"compose project {project.name!r} has no containers")
    stats = project.stats([c for c in containers if c.status == "running"])
    # a container taken off its network (a network Compose failed to make again) is
    # healthy by its own check and unreachable
    networks = project.networks_by_service()
    state = State(project.name).load()
    services = []
    for name in LONG_RUNNING:
        group = [c for c in containers if c.service == name]
        if not group:
            continue
        running = [c for c in group if c.status == "running"]
        healthy = [c for c in running if c.health in ("healthy", "none")]
        mem = sum(stats[c.id].mib for c in running if c.id in stats)
        services.append(
            {
                "service": name,
                "replicas": len(running),
                "healthy": len(healthy),
                "containers": [
                    {
                        "name": c.name,
                        "status": c.status,
                        "health": c.health,
                        "version": c.version,
                        "memory": stats[c.id].used if c.id in stats else "-",
                        "missing_networks": [
                            n
                            for n in networks.get(name, [])
                            if c.status == "running" and n not in c.networks
                        ],
                    }
                    for c in group
                ],
                "version": ",".join(sorted({c.version for c in running if c.version})) or "-",
                "memory_mib": round(mem, 1),
            }
        )
    if args.json:
        print(json.dumps({"project": project.name, "state": state, "services": services}, indent=1))
        return 0
    print(f"project {project.name}: {versions_line(state, project.current_version('app'))}")
    bad = 0
    last = (state.get("history") or [{}])[-1]
    incomplete = state.get("incomplete")
    if last.get("outcome") == "failed, switched back" and not incomplete:
        print(
            f"  note: the last {last['action']} (of {last['version']}, {last['at']}) failed "
            "and was undone: every tier runs what it ran before"
        )
    if incomplete:
        tiers = ", ".join(f"{k} {v or '-'}" for k, v in incomplete["tiers"].items())
        print(
            f"  ! the {incomplete['action']} of {incomplete['version']} did not complete and "
            f"could not be undone ({tiers}): deploy one version to both tiers"
        )
        bad += 1
    print(f"{'service':<8} {'replicas':>8} {'healthy':>7}  {'version':<14} {'memory':>10}")
    for s in services:
        print(
            f"{s['service']:<8} {s['replicas']:>8} {s['healthy']:>7}  {s['version']:<14} "
            f"{s['memory_mib']:>7.1f}MiB"
        )
        for c in s["containers"]:
            if c["status"] != "running" or c["health"] not in ("healthy", "none"):
                print(f"  ! {c['name']}: {c['status']}/{c['health']}")
                bad += 1
            if c["missing_networks"]:
                print(
                    f"  ! {c['name']}: not on {', '.join(c['missing_networks'])} (healthy, and "
                    f"cut off): `docker compose up -d --force-recreate {s['service']}` with "
                    "the settings the stack was started with"
                )
                bad += 1
    return 1 if bad else 0


def versions_line(state: dict, running: str | None) -> str:
    """Compose status's first line: the version extagram-ops recorded as deployed and
    the one before it (what `rollback` goes to), or why there is none, and what app
    runs if it differs."""
    recorded, previous = state.get("current"), state.get("previous")
    running = running or "?"
    if not recorded:
        return f"app runs {running} (no deploy recorded by extagram-ops yet)"
    if previous:
        line = f"deployed {recorded} (previous {previous}: `rollback` goes back to it)"
    else:
        line = (
            f"deployed {recorded} (no earlier version recorded: `rollback` has nothing to "
            "go back to)"
        )
    if recorded != running:
        line += f"; app runs {running}!"
    return line


def swarm_versions_line(app: dict | None) -> str:
    """Swarm status's first line: the version app runs and the one its previous spec
    (the engine's, what `rollback` goes to) runs, or why there is none. After the
    engine rolls an update back by itself it keeps no previous spec (swarmkit's
    updater.rollbackUpdate clears PreviousSpec); `docker service rollback` swaps the
    two specs."""
    if not app:
        return "no app"
    version, previous = app["version"], app["previous"]
    rolled_back = str(app.get("update") or "").startswith("rollback")
    if rolled_back and not previous:
        why = (
            "its last update was rolled back by the engine, which then keeps no earlier "
            "version: `rollback` has nothing to go back to; `deploy VERSION` changes it"
        )
    elif rolled_back:
        why = f"rolled back from {previous}"
    elif not previous:
        why = "no earlier version: not updated since it was created"
    elif previous == version:
        why = f"its previous spec runs {version} too: the last change was not a new version"
    else:
        why = f"previous {previous}: `rollback` goes back to it"
    return f"app runs {version} ({why})"


def roll_to(
    project: Project,
    version: str,
    timeout: float,
    action: str,
    build=False,
    migrate=True,
    force=False,
) -> int:
    """Roll app and upload to VERSION (deploy and rollback): migrations first, then each
    tier not already on it (every tier with `force`) blue-green (extagram_ops.rollout);
    record the version in the state file and in the env file Compose reads. Exit status
    0. OpsError when anything fails: then every tier already switched is switched back
    to the version it ran, the same blue-green way (the migrations are not reversed),
    the failure is added to the state file's history and `.env` is left alone; if a tier
    cannot be switched back, the state file records what each tier runs ("incomplete")
    and the message says so and how to finish."""
    project.require_stack()
    state = State(project.name)
    with state.lock():
        before = {service: project.current_version(service) for service in ROLLED}
        if set(before.values()) == {version} and not force:
            recorded = state.load().get("current")
            if recorded != version or state.load().get("incomplete"):
                # e.g. `up -d` with another EXTAGRAM_APP_VERSION, or an incomplete one
                state.record(action, version, recorded)
                write_env_version(project.env_file, version)
            print(
                f"{project.name}: app and upload already run {version}; nothing to roll"
                + (f" (recorded {version}, was {recorded})" if recorded != version else "")
            )
            return 0
        # what ran before: the tiers' one version, else (tiers left mixed by a failed
        # operation) the last version recorded as completed
        if len(set(before.values())) == 1 and before["app"]:
            previous = before["app"]
        else:
            previous = state.load().get("current") or before["app"]
        if build:
            progress(f"building the {version} images")
            project.compose("build", "app", env={VERSION_VAR: version}, timeout=3600)
        image = project.image("app", version)
        if not project.image_exists(image):
            raise OpsError(
                f"image {image} not found: build it first "
                f"({VERSION_VAR}={version} docker compose build app, or deploy --build)"
            )
        if migrate:
            progress(f"running the migrations of {version}")
            try:
                project.run_migrations(version, timeout)  # the image was checked above
            except OpsError as error:
                raise OpsError(f"{error}\n(nothing else was changed)") from None
        counts = {service: len(project.running(service)) for service in ROLLED}
        touched = []
        try:
            for service in ROLLED:
                if before[service] == version and not force:
                    progress(f"{service}: already runs {version}")
                    continue
                progress(f"{service}: {before[service]} -> {version}")
                touched.append(service)  # before: a failed drain leaves it half switched
                rollout.replace(project, service, version, timeout)
        except (OpsError, KeyboardInterrupt) as error:
            outcome = switch_back(
                project, state, action, version, previous, before, counts, touched, timeout
            )
            raise OpsError(f"{error or 'interrupted'}\n{outcome}") from None
        state.record(action, version, previous)
        write_env_version(project.env_file, version)
    print(
        f"{project.name}: {action} done, app and upload now run {version} "
        f"(previous {previous}); {VERSION_VAR}={version} written to {project.env_file}, "
        "so a later `docker compose up -d` keeps it."
    )
    shadow = project.env.get(VERSION_VAR)
    if shadow and shadow != version:
        print(
            f"note: {VERSION_VAR}={shadow} is set in this shell's environment, and it wins "
            f"over {project.env_file.name}: unset it before `docker compose up -d`."
        )
    return 0


def switch_back(project, state, action, version, previous, before, counts, touched, timeout):
    """After a failed roll to VERSION: each touched tier (last first) that no longer runs
    what it ran `before` gets that version back, `counts[service]` containers, blue-green
    (a tier whose new containers never got healthy already has: rollout.add removed
    them). Records the failure (State.record_failure); returns the sentence saying what
    every tier runs now. A tier that cannot be switched back (it ran no single version,
    or the switch fails or is interrupted) is left as it is, and recorded so."""
    failed = []
    for service in reversed(touched):
        old = before[service]
        if project.current_version(service) == old:
            continue
        if not old or "," in old:
            failed.append(f"{service} ran {old or 'no known version'} before")
            continue
        progress(f"{action} failed: switching {service} back to {old}")
        try:
            rollout.replace(project, service, old, timeout, count=counts[service])
        except (OpsError, KeyboardInterrupt) as error:
            failed.append(f"switching {service} back to {old} failed: {error or 'interrupted'}")
    tiers = {service: project.current_version(service) for service in ROLLED}
    state.record_failure(action, version, previous, before, tiers)
    runs = ", ".join(f"{service} runs {v or 'nothing'}" for service, v in tiers.items())
    if tiers == before:
        return (
            f"{action} of {version} failed and was undone: {runs}, as before "
            f"(recorded in the history of {state.path}; {project.env_file.name} unchanged)."
        )
    return (
        f"{action} of {version} failed and could NOT be fully undone: {runs}. "
        + "; ".join(failed)
        + f". Recorded as incomplete in {state.path}; {project.env_file.name} unchanged "
        f"(a plain `docker compose up -d` would put both tiers on the version it names). "
        f"`extagram-ops deploy {version}` finishes the {action}, "
        f"`extagram-ops deploy {previous}` goes back."
    )


def cmd_deploy(project: Project, args) -> int:
    return roll_to(
        project, args.version, args.timeout, "deploy", args.build, not args.skip_migrate, args.force
    )


def cmd_rollback(project: Project, args) -> int:
    data = State(project.name).load()
    target = data.get("previous")
    if not target:
        raise OpsError(
            f"no previous version recorded for {project.name!r} "
            f"(state file {State(project.name).path}); use `deploy VERSION`"
        )
    return roll_to(project, target, args.timeout, "rollback", migrate=False)


def cmd_scale(project: Project, args) -> int:
    service, replicas = args.target
    project.require_stack()
    with State(project.name).lock():
        version = project.current_version(service)
        if not version or "," in version:
            raise OpsError(
                f"{service} runs {version or 'no known version'}: finish the "
                "deploy (or roll back) before scaling"
            )
        before = len(project.running(service))
        rollout.scale(project, service, replicas, version, args.timeout)
        after = len(project.running(service))
    print(
        f"{project.name}: {service} {before} -> {after} replica{pluralize(after)} "
        f"({version}). Set EXTAGRAM_APP_REPLICAS={replicas} in .env to keep it."
    )
    return 0


def cmd_backup(project: Project, args) -> int:
    if args.verify:
        manifest = backups.verify(args.path)
        print(f"OK: {args.path} verified\n" + backups.describe(manifest), end="")
        return 0
    project.require_stack()
    # not beside a deploy, rollback or scale, which replace the containers it reads from
    with State(project.name).lock():
        manifest = backups.backup(project, args.path, database_only=args.database_only)
    print(f"backup written to {args.path}\n" + backups.describe(manifest), end="")
    return 0


def cmd_restore(project: Project, args) -> int:
    with State(project.name).lock():
        manifest = backups.restore(
            project, args.path, args.force, args.prune, database_only_=args.database_only
        )
    print(f"restored {args.path} into {project.name}\n" + backups.describe(manifest), end="")
    problem = backups.missing_photos(manifest)
    if problem and not args.allow_missing_photos:
        raise OpsError(problem)
    if problem:
        n = manifest["restore"]["photos_vs_rows"]["missing"]
        progress(
            f"--allow-missing-photos: {n} missing photo file{pluralize(n)} accepted; the "
            f"posts or profile pictures that use {pluralize(n, 'it,them')} show no photo"
        )
    return 0


def cmd_manage(project: Project, args) -> int:
    if not args.args:
        raise OpsError("say which manage.py command to run, e.g. `manage createsuperuser`")
    return project.manage(args.args, args.timeout)


def cmd_swarm_config(project: Project, args) -> int:
    _print_stack_file(project)
    return 0


def _print_stack_file(project: Project, keep=None) -> str:
    """The stack file to stdout, the images it names to stderr; returns the file.
    `keep(project, config)`, if given, changes the config first."""
    text = swarm.stack_config(project.directory, project.env)
    if keep is not None:
        config = json.loads(text)
        keep(project, config)
        text = json.dumps(config, indent=1)
    sys.stdout.write(text + "\n")
    print(swarm.images_note(text), file=sys.stderr)
    return text


def swarm_config_checked(stack: swarm.SwarmStack, args) -> int:
    """swarm-config keeping the secrets the running services mount (rotate-secret's),
    warning of each service the file would take back from the version the running
    stack's deploys brought it to."""
    text = _print_stack_file(stack, keep=secret_rotation.keep_running_secrets)
    if stack.service("app") is not None:
        for line in stack.versions_left_behind(text):
            print(line, file=sys.stderr)
    return 0


def _report(text: str) -> None:
    """A finished change's last words on stdout. A reader that left (`| head`) is not a
    failure of the change, which is done: exit 0 stays 0 (helper-73)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def swarm_status(stack: swarm.SwarmStack, args) -> int:
    """Exit 1 when a service runs fewer tasks than it wants or an update is paused."""
    data = stack.status()
    if args.json:
        print(json.dumps(data, indent=1))
    bad = []
    for s in data["services"]:
        if s["mode"] != "job" and s["running"] < (s["desired"] or 0):
            bad.append(
                f"{s['service']}: {s['running']}/{s['desired']} task{pluralize(s['desired'])} "
                "running"
            )
        if s["update"] in ("paused", "rollback_paused"):
            bad.append(f"{s['service']}: update {s['update']}: {s['update_message']}")
        for reason in s.get("waiting", []):
            bad.append(f"{s['service']}: a task waits for a node: {reason}")
    bad += secret_rotation.half_done_rotations(data["services"])
    if args.json:
        return 1 if bad else 0
    app = next((s for s in data["services"] if s["service"] == "app"), None)
    print(f"swarm stack {stack.stack}: {swarm_versions_line(app)}")
    print(f"{'service':<8} {'mode':<10} {'tasks':>7}  {'version':<14} {'last update':<18} nodes")
    for s in data["services"]:
        tasks = f"{s['completed']} done" if s["mode"] == "job" else f"{s['running']}/{s['desired']}"
        print(
            f"{s['service']:<8} {s['mode']:<10} {tasks:>7}  {s['version']:<14} "
            f"{s['update'] or '-':<18} {','.join(s['nodes']) or '-'}"
        )
        if s["update"] == "rollback_completed":
            print(f"  note: {s['service']}'s last update was rolled back: {s['update_message']}")
    note = secret_rotation.db_kept_password_note(data["services"])
    if note:
        print(f"  note: {note}")
    if data.get("lock"):
        print(f"  note: {data['lock']}")
    for problem in bad:
        print(f"  ! {problem}")
    return 1 if bad else 0


def swarm_deploy(stack: swarm.SwarmStack, args) -> int:
    if args.build:
        raise OpsError(
            "--build is for Compose mode: on a swarm every node pulls the images, so build "
            "and push VERSION to the registry first (docs/swarm.md), then deploy"
        )
    previous = stack.deploy(args.version, args.timeout, not args.skip_migrate, args.force)
    _report(
        f"swarm stack {stack.stack}: deploy done, app, upload and static now run {args.version} "
        f"(previous {previous}); `extagram-ops --swarm {stack.stack} rollback` goes back."
    )
    return 0


def swarm_rollback(stack: swarm.SwarmStack, args) -> int:
    before, after = stack.rollback(args.timeout)
    _report(
        f"swarm stack {stack.stack}: rollback done, app, upload and static run {after} "
        f"(was {before})"
    )
    return 0


def swarm_scale(stack: swarm.SwarmStack, args) -> int:
    _service, replicas = args.target
    before = stack.scale(replicas, args.timeout)
    _report(
        f"swarm stack {stack.stack}: app {before} -> {replicas} replica{pluralize(replicas)}. "
        "The next `docker "
        f"stack deploy` sets the stack file's count (EXTAGRAM_APP_REPLICAS={replicas} keeps it)."
    )
    return 0


def cmd_rotate_secret(project: Project, args) -> int:
    raise OpsError(
        "rotate-secret is for a swarm stack (--swarm STACK). With Compose, change the file "
        "as deploy/secrets/README.md says; a new secret_key there signs every member out"
    )


def swarm_rotate_secret(stack: swarm.SwarmStack, args) -> int:
    new = secret_rotation.rotate(stack, args.secret, args.timeout, args.source)
    _report(
        f"swarm stack {stack.stack}: {args.secret} rotated; app, upload and migrate mount "
        f"{new}. Render the stack file with `extagram-ops --swarm {stack.stack} swarm-config`"
        ", which names it, not the file in EXTAGRAM_SWARM_SECRETS_DIR."
    )
    mounts = [
        {"service": short, "secrets": swarm.secret_mounts(service)}
        for short, service in stack.services().items()
    ]
    note = secret_rotation.db_kept_password_note(mounts)
    if note:
        _report(f"{note[0].upper()}{note[1:]}; `status` says so too.")
    return 0


def needs_engine(args) -> bool:
    """Whether the command talks to Docker. `backup --verify DIR` only reads a folder, so
    it works on a machine with no Docker engine (or no docker command) at all."""
    return not (args.command == "backup" and args.verify)


COMMANDS = {
    "status": cmd_status,
    "deploy": cmd_deploy,
    "rollback": cmd_rollback,
    "scale": cmd_scale,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "manage": cmd_manage,
    "rotate-secret": cmd_rotate_secret,
    "swarm-config": cmd_swarm_config,
}


# swarm mode: the engine does these; backup, restore and manage are shared (manage through
# Project.manage or SwarmStack.manage); swarm-config also compares the running versions
SWARM_COMMANDS = {
    **COMMANDS,
    "status": swarm_status,
    "deploy": swarm_deploy,
    "rollback": swarm_rollback,
    "scale": swarm_scale,
    "rotate-secret": swarm_rotate_secret,
    "swarm-config": swarm_config_checked,
}


# swarm commands that change the stack's services: one at a time (SwarmStack.lock), and
# run to their end when the operator's terminal goes away
SWARM_CHANGES = ("deploy", "rollback", "scale", "restore", "rotate-secret")


# Compose commands that create containers (Project.check_networks runs first)
MAKES_CONTAINERS = ("deploy", "rollback", "scale", "restore", "manage")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.swarm and args.project_name:
        parser.error("--swarm STACK and -p PROJECT are two modes: give one")
    if args.swarm and not VERSION_RE.match(args.swarm):
        parser.error(f"--swarm {args.swarm!r} is not a stack name")
    try:
        if not needs_engine(args):
            return COMMANDS[args.command](None, args)
        if args.swarm:
            stack = swarm.SwarmStack(args.swarm, args.project_dir)
            stack.check_engine()
            if args.command not in SWARM_CHANGES:
                return SWARM_COMMANDS[args.command](stack, args)
            typed = " ".join(sys.argv[1:] if argv is None else argv)
            with continues_after_hangup(), stack.lock(typed):
                return SWARM_COMMANDS[args.command](stack, args)
        project = Project(args.project_name, args.project_dir)
        project.check_engine()
        if args.command in MAKES_CONTAINERS:
            project.check_networks()  # before anything is done or said to be
        return COMMANDS[args.command](project, args)
    except OpsError as error:
        print(f"extagram-ops {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"extagram-ops {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout's reader left (`status | head`): no traceback, and none again when Python
        # flushes stdout at exit (the recipe of the `signal` module's docs, "Note on SIGPIPE")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
