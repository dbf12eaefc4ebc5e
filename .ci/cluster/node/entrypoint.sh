#!/bin/sh
# TEST SCAFFOLDING (.ci/cluster.sh): start Debian's dockerd inside a node container.
# Without --privileged (refused on the CI hosts) the cgroup mounts are read-only, so they
# are remounted read-write first; arguments go to dockerd as they are.
set -eu
for dir in /sys/fs/cgroup /sys/fs/cgroup/*; do
	[ -d "$dir" ] && mount -o remount,bind,rw "$dir" 2>/dev/null || true
done
# a stale pid file from a node that was stopped hard would stop dockerd starting again
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
exec dockerd "$@"
