"""`extagram-ops --swarm STACK rotate-secret NAME`: a new secret key or database password,
put in place by the engine's rolling updates, with no failed request and nobody signed out
(docs/swarm.md, "Rotating a secret").

A swarm secret never changes, so a rotation is a new secret, STACK_NAME_<UTC time>
(labelled as the stack's, so `docker stack rm` removes it), that replaces the old one in
each service mounting it, at the same place: `docker service update --secret-rm OLD
--secret-add source=NEW,target=...`, the way Docker's secrets guide rotates one. While the
tasks of two specs serve side by side, both must work:

- secret_key: Django accepts a session, a password-reset link or a signed cookie signed
  with the key or with any of SECRET_KEY_FALLBACKS. First every task takes the new key as
  its fallback; then the new key becomes the key and the old one the fallback. Each step's
  tasks accept what the other step's sign, so a member signed in on either stays signed
  in. The key before the old one is dropped: one rotation keeps one previous key.
- db_password: MariaDB accepts either password for the account while the tasks move to
  the new one (one authentication method per password, joined by OR: MariaDB 10.4+,
  https://mariadb.com/kb/en/alter-user/), then the new one only. The migrate job connects
  with it first, so a password that does not work never reaches app or upload.

The db service keeps the secret it was created with (a changed spec would restart the
database): MariaDB's image reads it only when it initialises an empty data directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path

from extagram_ops.backup import root_client
from extagram_ops.docker import OpsError, compose_variable, progress
from extagram_ops.swarm import secret_refs

# what can be rotated: {secret: random bytes of a generated value}, as secrets-init
# generates them (deploy/app/secrets_init.py)
ROTATABLE = {"secret_key": 48, "db_password": 24}
# the shortest value --from may give: the settings' rule for a key (extagram/settings.py);
# for a password, 16 (a generated one has 32)
MIN_LENGTH = {"secret_key": 50, "db_password": 16}
# where the previous secret key is mounted (the stack file's SECRET_KEY_FALLBACKS_FILE)
FALLBACK = "secret_key_fallback"
# mounts db_password, but reads it only to initialise an empty data directory
KEEPS_ITS_SECRET = ("db",)
NATIVE_PLUGIN = "mysql_native_password"
NATIVE_HASH = re.compile(r"\*[0-9A-F]{40}")
ACCOUNT_PART = re.compile(r"[\w.%:-]+")


def native_password_hash(password: str) -> str:
    """MariaDB's mysql_native_password hash of `password`, as its PASSWORD() gives it:
    '*' and the upper-case hex of SHA1(SHA1(password)), 41 characters
    (https://mariadb.com/kb/en/password/). Lets the ALTER USER statements name the
    password by its hash, so the value itself is never in a statement or a command line."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()  # noqa: S324 -- MariaDB's scheme


def new_value(name: str, source: Path | None = None) -> str:
    """The new value of secret `name`: the content of the file `source` (the operator's,
    stripped), else a random one as secrets-init makes. OpsError for an unreadable or empty
    file, whitespace inside the value, or a value shorter than MIN_LENGTH."""
    if source is None:
        return secrets.token_urlsafe(ROTATABLE[name])
    try:
        value = source.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise OpsError(f"{source} cannot be read: {error}") from None
    if not value or any(c.isspace() for c in value):
        raise OpsError(f"{source} must hold one value, with no whitespace inside it")
    if len(value) < MIN_LENGTH[name]:
        raise OpsError(f"{source}: a {name} needs {MIN_LENGTH[name]} or more random characters")
    return value


def rotates_in(short: str) -> bool:
    """Whether a rotation puts the new secret in the stack's service `short` (when it
    mounts it): every one but db (KEEPS_ITS_SECRET) and the one-off `manage-` tasks."""
    return short not in KEEPS_ITS_SECRET and not short.startswith("manage-")


def mounted_at(service: dict, target: str) -> dict | None:
    """The secret reference of `service` (`docker service inspect`) whose file is
    `target` (a name under /run/secrets, or a path), or None."""
    return next((ref for ref in secret_refs(service) if ref["File"]["Name"] == target), None)


def secret_option(ref: dict, source: str, target: str | None = None) -> str:
    """`--secret-add` for secret `source` mounted as `ref` (a spec's secret reference)
    is, owner and mode included, at `target` (default: the same place)."""
    file = ref["File"]
    return (
        f"source={source},target={target or file['Name']},uid={file['UID']},"
        f"gid={file['GID']},mode={file['Mode']:04o}"
    )


def rotate(stack, name: str, timeout: float, source: Path | None = None) -> str:
    """Rotate secret `name` (ROTATABLE) of the SwarmStack `stack`: a new secret with the
    value new_value() gives, put in place in every service mounting `name` but db, one
    rolling update at a time, each waited for (`timeout` seconds each). Returns the new
    secret's name. OpsError when a service cannot roll, or when an update fails: the
    engine then rolled that service back, and every task left accepts the old and the new
    value (the message says what runs what)."""
    if name not in ROTATABLE:
        raise OpsError(f"rotate-secret rotates {' or '.join(ROTATABLE)}, not {name!r}")
    stack.require_stack()
    users = {
        short: service
        for short, service in stack.services().items()
        if rotates_in(short) and mounted_at(service, name)
    }
    jobs = [short for short, s in users.items() if "ReplicatedJob" in s["Spec"]["Mode"]]
    # app first: the service every page comes from
    rolled = sorted((short for short in users if short not in jobs), key=lambda s: s != "app")
    for short in rolled:
        stack.check_update_config(short, users[short])
    reads = f"SECRET_KEY_FALLBACKS_FILE=/run/secrets/{FALLBACK}"
    for short, service in users.items():
        env = service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env") or []
        if name == "secret_key" and reads not in env:
            raise OpsError(
                f"{stack.service_name(short)} does not read a previous key ({reads}): deploy "
                "the stack from the current stack file (`extagram-ops swarm-config`) first"
            )
    value = new_value(name, source)
    # the database's account read (and its plugin checked) before anything is made
    account = None
    if name == "db_password":
        user = _db_user(stack)
        account = (user, _native_hashes(stack, user))
    new = f"{stack.stack}_{name}_{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    stack.docker(
        "secret", "create", "--label", f"com.docker.stack.namespace={stack.stack}", new, "-",
        input=value,
    )  # fmt: skip
    progress(f"created the secret {new}")
    if name == "secret_key":
        _rotate_secret_key(stack, new, rolled, jobs, timeout)
    else:
        _rotate_db_password(stack, new, value, account, rolled, jobs, timeout)
    _remove_unused(stack, name, new)
    _write_back(stack, name, value)
    return new


def _write_back(stack, name: str, value: str) -> None:
    """The new value into the file EXTAGRAM_SWARM_SECRETS_DIR/name (replaced whole, mode
    0600), when that folder is set and here: it then holds the values in use, and a stack
    file rendered from it without the running stack's names is refused by `docker stack
    deploy` (a secret's content never changes) instead of taking services back."""
    folder = compose_variable(stack.env, stack.env_file, "EXTAGRAM_SWARM_SECRETS_DIR")
    if not folder or not Path(folder).is_dir():
        progress(
            f"EXTAGRAM_SWARM_SECRETS_DIR is not a folder here: its {name} file, if any, still "
            "holds the old value; put the new one there yourself"
        )
        return
    path = Path(folder) / name
    temporary = path.with_name(f".{name}.new")
    temporary.unlink(missing_ok=True)
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(value + "\n")
    os.replace(temporary, path)
    progress(f"{path} holds the new value")


def _update_all(stack, rolled, jobs, args_for, timeout, what):
    """Each service of `rolled` updated with args_for(service inspect), one after the
    other, then each job run again with them (on app's image: the running version)."""
    for short in rolled:
        progress(f"{stack.service_name(short)}: {what}")
        args = [*args_for(stack.service(short)), "--no-resolve-image"]
        stack.update(short, args, timeout, what)
    for short in jobs:
        progress(f"{stack.service_name(short)}: {what} (the job runs again)")
        stack.run_migrate(stack.spec_image("app"), timeout, False, args_for(stack.service(short)))


def _rotate_secret_key(stack, new, rolled, jobs, timeout):
    def fallback_added(service):
        args = []
        if previous := mounted_at(service, FALLBACK):
            args += ["--secret-rm", previous["SecretName"]]
        key = mounted_at(service, "secret_key")
        return [*args, "--secret-add", secret_option(key, new, FALLBACK)]

    def swapped(service):
        key = mounted_at(service, "secret_key")
        old = key["SecretName"]
        args = ["--secret-rm", old]
        if previous := mounted_at(service, FALLBACK):
            args += ["--secret-rm", previous["SecretName"]]  # the new key, after step 1
        return [
            *args,
            "--secret-add", secret_option(key, new),
            "--secret-add", secret_option(key, old, FALLBACK),
        ]  # fmt: skip

    what = "the new secret key, the old one as fallback"
    # the job first, straight to the end: it serves no page, and its spec is what
    # `manage` and `restore` tasks are made from; a job that fails stops the rotation
    # before app and upload are touched
    _update_all(stack, [], jobs, swapped, timeout, what)
    _update_all(stack, rolled, [], fallback_added, timeout, "the new secret key as fallback")
    _update_all(stack, rolled, [], swapped, timeout, what)


def _rotate_db_password(stack, new, value, account, rolled, jobs, timeout):
    user, accounts = account
    new_hash = native_password_hash(value)
    both = {host: list(dict.fromkeys([*hashes, new_hash])) for host, hashes in accounts.items()}
    _alter(stack, user, both)
    progress(f"the database accepts the old and the new password for {user!r}")

    def replaced(service):
        ref = mounted_at(service, "db_password")
        return ["--secret-rm", ref["SecretName"], "--secret-add", secret_option(ref, new)]

    try:
        # the job first: its migrations connect with the new password before anything serves
        _update_all(stack, [], jobs, replaced, timeout, "the new database password")
        _update_all(stack, rolled, [], replaced, timeout, "the new database password")
    except OpsError as error:
        mounts = {s: mounted_at(stack.service(s), "db_password")["SecretName"] for s in rolled}
        raise OpsError(
            f"{error}\nThe database still accepts the old and the new password; the services "
            f"mount {json.dumps(mounts)}. Run rotate-secret db_password again once the "
            "cause is fixed."
        ) from None
    _alter(stack, user, {host: [new_hash] for host in accounts})
    progress(f"the database accepts only the new password for {user!r}")


def _db_user(stack) -> str:
    for variable in stack.spec_env("app"):
        key, _, value = variable.partition("=")
        if key == "DB_USER":
            return value
    raise OpsError(f"{stack.service_name('app')} has no DB_USER in its environment")


def _native_hashes(stack, user: str) -> dict[str, list[str]]:
    """{host: the mysql_native_password hashes the account `user`@host accepts}, read
    from mysql.global_priv in the db task. OpsError if it has none, or another plugin."""
    _check_account_part(user)
    sql = f"SELECT Host, Priv FROM mysql.global_priv WHERE User = '{user}'"  # noqa: S608 -- checked just above
    out = stack.exec(stack.one("db"), *root_client("mariadb", "mysql"), "-N", "-B", "-e", sql)
    accounts = {}
    for line in out.stdout.splitlines():
        host, _, priv = line.partition("\t")
        priv = json.loads(priv)
        methods = [priv, *(m for m in priv.get("auth_or", []) if m)]
        plugins = {m.get("plugin") for m in methods}
        hashes = [m.get("authentication_string", "") for m in methods]
        if plugins != {NATIVE_PLUGIN} or not all(NATIVE_HASH.fullmatch(h) for h in hashes):
            raise OpsError(
                f"the database account {user}@{host} authenticates with {sorted(plugins)}: "
                f"rotate-secret changes {NATIVE_PLUGIN} passwords only"
            )
        accounts[_check_account_part(host)] = list(dict.fromkeys(hashes))
    if not accounts:
        raise OpsError(f"the database has no account {user!r}")
    return accounts


def _alter(stack, user: str, accounts: dict[str, list[str]]) -> None:
    """Each account `user`@host accepts exactly the passwords of these hashes."""
    statements = []
    for host, hashes in accounts.items():
        methods = " OR ".join(f"{NATIVE_PLUGIN} USING '{h}'" for h in hashes)
        statements.append(f"ALTER USER '{user}'@'{host}' IDENTIFIED VIA {methods};")
    stack.exec(stack.one("db"), *root_client("mariadb", "mysql"), "-e", " ".join(statements))


def _check_account_part(text: str) -> str:
    if not ACCOUNT_PART.fullmatch(text):
        raise OpsError(f"an account name part {text!r} rotate-secret will not quote")
    return text


def _remove_unused(stack, name: str, keep: str) -> None:
    """Remove the stack's earlier secrets for `name` that no service mounts any more."""
    pattern = re.compile(rf"{re.escape(stack.stack)}_{name}(_\d{{8}}T\d{{6}}Z)?")
    listed = stack.docker(
        "secret", "ls", "--filter", f"label=com.docker.stack.namespace={stack.stack}",
        "--format", "{{.Name}}",
    ).stdout.split()  # fmt: skip
    mounted = {
        ref["SecretName"] for service in stack.services().values() for ref in secret_refs(service)
    }
    for secret in listed:
        unused = pattern.fullmatch(secret) and secret != keep and secret not in mounted
        if unused and stack.docker("secret", "rm", secret, check=False).returncode == 0:
            progress(f"removed the secret {secret}, which nothing mounts any more")


def keep_running_secrets(stack, config: dict) -> None:
    """Make the stack file `config` (for_stack's) mount, in each service already running,
    the secrets it mounts now, named as external secrets: one rotate-secret (or an
    operator, by hand) put in place instead of the file's, which would take the service
    back to the old value, and the stack's first ones, whose files rotate-secret rewrote
    (a `docker stack deploy` would refuse their new content). Secrets no service mounts
    any more leave the file."""
    running = stack.services()
    top = config.setdefault("secrets", {})
    for short, service in config.get("services", {}).items():
        spec = running.get(short)
        if spec is None:
            continue
        refs = service.get("secrets") or []
        by_target = {ref.get("target") or ref["source"]: ref for ref in refs}
        for mount in secret_refs(spec):
            target, secret = mount["File"]["Name"], mount["SecretName"]
            ref = by_target.get(target)
            top[secret] = {"name": secret, "external": True}
            if ref is None:
                file = mount["File"]
                ref = {"target": target, "uid": file["UID"], "gid": file["GID"]}
                refs.append({**ref, "mode": file["Mode"]})
                ref = refs[-1]
            ref["source"] = secret
        if refs:
            service["secrets"] = refs
    mounted = {ref["source"] for s in config["services"].values() for ref in s.get("secrets", [])}
    for key in [key for key in top if key not in mounted]:
        del top[key]


def db_kept_password_note(services: list[dict]) -> str | None:
    """For `status` (its rows, SwarmStack.status()): what to do before db initialises an
    empty data directory, when app mounts another database password than db was created
    with (after rotate-secret db_password); else None."""
    mounts = {row["service"]: row.get("secrets", {}) for row in services}
    kept = mounts.get("db", {}).get("db_password")
    used = mounts.get("app", {}).get("db_password")
    if not kept or not used or kept == used:
        return None
    return (
        f"db keeps {kept} as db_password, app uses {used} (rotate-secret): before db "
        'initialises an empty data directory (docs/swarm.md, "Losing the database node", '
        f"step 3), give it {used}"
    )


def half_done_rotations(services: list[dict]) -> list[str]:
    """For `status` (its rows, SwarmStack.status()): a line for each ROTATABLE secret
    that the services a rotation changes (rotates_in: app, upload, the migrate job) mount in
    different versions, which a rotation stopped half-way leaves (a killed run: helper-73);
    running it again finishes it."""
    users = [row for row in services if rotates_in(row["service"])]
    lines = []
    for name in ROTATABLE:
        mounted = {row["service"]: row.get("secrets", {}).get(name) for row in users}
        mounted = {short: secret for short, secret in mounted.items() if secret}
        if len(set(mounted.values())) > 1:
            which = ", ".join(f"{short} {secret}" for short, secret in sorted(mounted.items()))
            lines.append(
                f"{name}: the services mount different secrets ({which}): a rotation stopped "
                f"half-way; `rotate-secret {name}` again finishes it"
            )
    return lines
