#!/usr/bin/env python
"""One-shot `secrets-init` service: make sure the stack's secrets exist, never print them.

Runs before anything else (compose `service_completed_successfully`), as root with only
CHOWN/DAC_OVERRIDE/FOWNER, no network. For each secret file in $SECRETS_DIR (a small
named volume the other services mount read-only at /run/secrets):

1. if $IMPORT_DIR/<name> exists and is not empty (your own value, see
   deploy/secrets/README.md), copy it in;
2. else keep the value already in the volume (so restarts never rotate anything);
3. else generate a new random value with `secrets.token_urlsafe`.

Then set owner and mode so that each consumer, and only it, can read the file:
secret_key for the app uid, db_root_password for the database uid, db_password for
both (group = the app gid). Prints names and what was done, never values.
"""

import os
import secrets
import sys
from pathlib import Path

SECRETS_DIR = Path(os.environ.get("SECRETS_DIR", "/run/secrets"))
IMPORT_DIR = Path(os.environ.get("IMPORT_DIR", "/import"))
APP_UID = int(os.environ.get("EXTAGRAM_APP_UID", "10001"))
DB_UID = int(os.environ.get("EXTAGRAM_DB_UID", "999"))

# name: (owner uid, group gid, mode, random bytes)
SECRETS = {
    "secret_key": (APP_UID, APP_UID, 0o400, 48),
    "db_password": (DB_UID, APP_UID, 0o440, 24),
    "db_root_password": (DB_UID, DB_UID, 0o400, 24),
}
# Secrets only an operator can supply (never generated): name -> (owner uid, gid, mode).
SUPPLIED = {
    "email_password": (APP_UID, APP_UID, 0o400),  # SMTP password, EMAIL_HOST_PASSWORD_FILE
    "s3_access_key_id": (APP_UID, APP_UID, 0o400),  # EXTAGRAM_S3_ACCESS_KEY_ID_FILE
    "s3_secret_access_key": (APP_UID, APP_UID, 0o400),  # EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE
}


def imported_value(name):
    source = IMPORT_DIR / name
    if not source.is_file():
        return None
    value = source.read_text().strip()
    if not value:
        return None
    if any(c.isspace() for c in value):
        sys.exit(f"secrets-init: {source} contains whitespace inside the value; refusing it")
    return value


def write(path, value):
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.replace(tmp, path)


def main():
    if not SECRETS_DIR.is_dir():
        sys.exit(f"secrets-init: {SECRETS_DIR} is not a directory (mount the secrets volume there)")
    os.chmod(SECRETS_DIR, 0o755)  # noqa: S103 -- the directory; each file has its own mode
    for name, (uid, gid, mode, nbytes) in SECRETS.items():
        path = SECRETS_DIR / name
        value = imported_value(name)
        if value is not None:
            write(path, value)
            action = f"imported from {IMPORT_DIR / name}"
        elif path.is_file() and path.stat().st_size > 0:
            action = "kept"
        else:
            write(path, secrets.token_urlsafe(nbytes))
            action = "generated"
        st = path.stat()
        if (st.st_uid, st.st_gid, st.st_mode & 0o777) != (uid, gid, mode):
            os.chown(path, 0, 0)  # root-owned while changing the mode: needs no FOWNER
            os.chmod(path, mode)
            os.chown(path, uid, gid)
        print(f"secrets-init: {name}: {action} (owner {uid}:{gid}, mode {mode:o})")
    for name, (uid, gid, mode) in SUPPLIED.items():
        value = imported_value(name)
        if value is None:
            continue
        path = SECRETS_DIR / name
        write(path, value)
        os.chown(path, 0, 0)
        os.chmod(path, mode)
        os.chown(path, uid, gid)
        print(f"secrets-init: {name}: imported from {IMPORT_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
