#!/usr/bin/env bash
# TEST SCAFFOLDING: builds local stand-ins for the official Docker Hub images the compose
# stack uses (python, nginx, mariadb, redis), for CI machines that reach no registry.
# See README.md in this folder. Users of Extagram pull the real official images.
#
#   bash .ci/standins/build.sh          # build what is missing or changed, write images.env
#
# 1. base: `debootstrap --variant=minbase trixie` imported as extagram-standin/debian:trixie
#    (redone only when the image is missing or base/ changed).
# 2. one image per sub-folder, FROM that base, with the classic builder (no buildx here).
#    Each image carries a label with a sha256 of its build context (plus the base image id
#    and RECIPE_VERSION); it is rebuilt only when that hash changes.
# 3. writes images.env (PYTHON_IMAGE=..., NGINX_IMAGE=..., DB_IMAGE=..., REDIS_IMAGE=...).
#
# Environment: STANDIN_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#   STANDIN_SECURITY_MIRROR (default http://deb.debian.org/debian-security),
#   STANDIN_FORCE=1 rebuilds everything, STANDIN_VERBOSE=1 streams build output.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUITE=trixie
MIRROR=${STANDIN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${STANDIN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
LABEL_HASH=org.extagram.standin.hash
LABEL_MARK=org.extagram.standin
# bump to force a rebuild of every stand-in on every machine
RECIPE_VERSION=1

BASE_IMAGE=extagram-standin/debian:trixie
# folder -> image name (the variable names are what compose.yaml reads)
STANDINS=(python nginx mariadb redis)
declare -A IMAGE=(
	[python]=extagram-standin/python:3.13-slim-trixie
	[nginx]=extagram-standin/nginx:1.28
	[mariadb]=extagram-standin/mariadb:11.8
	[redis]=extagram-standin/redis:8.0
)
declare -A VAR=(
	[python]=PYTHON_IMAGE
	[nginx]=NGINX_IMAGE
	[mariadb]=DB_IMAGE
	[redis]=REDIS_IMAGE
)

log() { printf '[standins] %s\n' "$*"; }
die() { printf '[standins] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, docker)"
command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "docker engine not answering (run .ci/docker-setup.sh)"

# one builder at a time on a machine
exec 8>/var/lock/extagram-standins.lock
flock -w 1800 8 || die "timed out waiting for another build.sh"

WORK=$(mktemp -d /var/tmp/extagram-standins.XXXXXX)
cleanup() {
	local m
	# never leave a mounted proc/sys/dev under a directory we are about to delete
	if [ -d "$WORK" ]; then
		for m in $(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
			umount -l "$m" 2>/dev/null || true
		done
		rm -rf --one-file-system "$WORK"
	fi
	rm -f "$HERE"/.images.env.??????
}
trap cleanup EXIT

# sha256 of a directory tree: relative paths, file types, modes and contents
tree_hash() {
	(
		cd "$1"
		find . -printf '%P %y %m\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	) | sha256sum | cut -d' ' -f1
}

image_label() { # image label -> value or empty
	docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

run_logged() { # logfile cmd... ; streams when STANDIN_VERBOSE=1, else tail on failure
	local logf=$1; shift
	if [ -n "${STANDIN_VERBOSE:-}" ]; then
		"$@" 2>&1 | tee "$logf"
	else
		if ! "$@" >"$logf" 2>&1; then
			echo "----- last lines of $logf -----" >&2
			tail -n 60 "$logf" >&2
			return 1
		fi
	fi
}

# ---------------------------------------------------------------- 1. base image
build_base() {
	local want have t0 rootfs
	want=$(printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$(tree_hash "$HERE/base")" | sha256sum | cut -d' ' -f1)
	have=$(image_label "$BASE_IMAGE" "$LABEL_HASH")
	if [ -z "${STANDIN_FORCE:-}" ] && [ "$have" = "$want" ]; then
		log "base $BASE_IMAGE: up to date"
		return
	fi
	command -v debootstrap >/dev/null || die "debootstrap not installed (run .ci/docker-setup.sh)"
	t0=$(now)
	OLD_BASE_ID=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)
	rootfs="$WORK/rootfs"
	log "base $BASE_IMAGE: debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)..."
	run_logged /tmp/extagram-standin-debootstrap.log \
		debootstrap --variant=minbase --components=main "$SUITE" "$rootfs" "$MIRROR" \
		|| die "debootstrap failed (log: /tmp/extagram-standin-debootstrap.log)"
	bash "$HERE/base/finish-rootfs.sh" "$rootfs" "$SUITE" "$MIRROR" "$SECURITY_MIRROR"
	log "base $BASE_IMAGE: importing"
	tar --numeric-owner --xattrs -C "$rootfs" \
		--exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
		| docker import \
			--change 'CMD ["bash"]' \
			--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			--change "LABEL $LABEL_MARK=base $LABEL_HASH=$want" \
			--message "extagram CI stand-in base: debootstrap --variant=minbase $SUITE" \
			- "$BASE_IMAGE" >/dev/null \
		|| die "docker import failed"
	rm -rf --one-file-system "$rootfs"
	log "base $BASE_IMAGE: built in $(( $(now) - t0 ))s ($(docker run --rm "$BASE_IMAGE" cat /etc/debian_version))"
}

# ---------------------------------------------------------------- 2. stand-ins
build_standin() {
	local name=$1 img=${IMAGE[$1]} ctx="$WORK/ctx-$1" want have t0 base_id old_id
	rm -rf "$ctx"; mkdir -p "$ctx"
	cp -a "$HERE/$name/." "$ctx/"
	if [ "$name" = python ]; then
		[ -r "$HOST_CA_BUNDLE" ] || die "$HOST_CA_BUNDLE missing on this host"
		cp "$HOST_CA_BUNDLE" "$ctx/host-ca-bundle.crt"
		chmod 644 "$ctx/host-ca-bundle.crt"
	fi
	base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
	want=$(printf '%s\n' "$RECIPE_VERSION" "$base_id" "$(tree_hash "$ctx")" | sha256sum | cut -d' ' -f1)
	have=$(image_label "$img" "$LABEL_HASH")
	if [ -z "${STANDIN_FORCE:-}" ] && [ "$have" = "$want" ]; then
		log "$img: up to date"
		return
	fi
	t0=$(now)
	old_id=$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)
	log "$img: building (log: /tmp/extagram-standin-$name.log)..."
	run_logged "/tmp/extagram-standin-$name.log" \
		env DOCKER_BUILDKIT=0 docker build --force-rm \
			--build-arg BASE_IMAGE="$BASE_IMAGE" \
			--label "$LABEL_MARK=$name" --label "$LABEL_HASH=$want" \
			-t "$img" "$ctx" \
		|| die "building $img failed (log: /tmp/extagram-standin-$name.log)"
	log "$img: built in $(( $(now) - t0 ))s"
	# drop the superseded image unless something still uses it (containers, child images)
	if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$img")" ]; then
		docker rmi "$old_id" >/dev/null 2>&1 || true
	fi
}

t_start=$(now)
OLD_BASE_ID=
log "stand-ins for the official images (TEST SCAFFOLDING, see .ci/standins/README.md)"
build_base
for s in "${STANDINS[@]}"; do
	build_standin "$s"
done
# a replaced base goes too once nothing is built on it any more
if [ -n "${OLD_BASE_ID:-}" ] && [ "$OLD_BASE_ID" != "$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")" ]; then
	docker rmi "$OLD_BASE_ID" >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- 3. images.env
tmp=$(mktemp "$HERE/.images.env.XXXXXX")
{
	echo "# Written by .ci/standins/build.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Git-ignored."
	echo "# TEST SCAFFOLDING: local stand-ins for the official images (no registry on CI)."
	echo "# Use: set -a; . .ci/standins/images.env; set +a; docker compose build && docker compose up -d"
	for s in "${STANDINS[@]}"; do
		echo "${VAR[$s]}=${IMAGE[$s]}"
	done
} > "$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$HERE/images.env"
log "wrote $HERE/images.env"
log "done in $(( $(now) - t_start ))s"
