#!/bin/sh
# Entrypoint of the Extagram app image (services app, upload, migrate, secrets-init).
# Checks what would otherwise fail later in a confusing way, then hands PID 1 to the
# command (gunicorn by default).
set -eu

if [ "${1:-}" = gunicorn ] && [ "$(id -u)" != 0 ] && [ -d "${MEDIA_ROOT:-/nonexistent}" ] \
	&& [ ! -w "$MEDIA_ROOT" ]; then
	echo "extagram: MEDIA_ROOT=$MEDIA_ROOT is not writable by uid $(id -u): mount a named" \
		"volume there (a fresh one takes this image's ownership) or chown it to $(id -u)." >&2
	exit 1
fi

exec "$@"
