#!/usr/bin/env bash
# TEST SCAFFOLDING. Turns a fresh `debootstrap --variant=minbase` tree into something close
# to the official `debian:<suite>-slim` image before build.sh imports it.
# Usage: finish-rootfs.sh ROOTFS SUITE MIRROR SECURITY_MIRROR
# Runs on the host, edits files only (no chroot), so it cannot touch the host system.
set -euo pipefail

rootfs=$1 suite=$2 mirror=$3 security_mirror=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ -x "$rootfs/usr/bin/apt-get" ] || { echo "finish-rootfs: $rootfs does not look like a rootfs" >&2; exit 1; }
case "$rootfs" in /|/.|"") echo "finish-rootfs: refusing to work on /" >&2; exit 1;; esac

# apt/dpkg configuration of the official images (docker-clean, no languages, slim paths, policy-rc.d)
cp -a "$here/rootfs/." "$rootfs/"

# deb822 sources like debian:trixie (main, updates, security)
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# slim: drop what the dpkg excludes above would have kept out
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/{man,info,groff,linda,lintian}/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true

# caches, logs and per-machine state; Docker provides hostname/hosts/resolv.conf at run time
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/var/log/apt/* \
       "$rootfs"/var/log/dpkg.log "$rootfs"/var/log/bootstrap.log "$rootfs"/var/log/alternatives.log \
       "$rootfs"/debootstrap "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/root/.bash_history
mkdir -p "$rootfs/var/lib/apt/lists/partial"
: > "$rootfs/etc/resolv.conf"
: > "$rootfs/etc/hostname"
: > "$rootfs/etc/machine-id"
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
