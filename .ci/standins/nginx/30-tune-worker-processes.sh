#!/bin/sh
# TEST SCAFFOLDING: the official image's script of that name sets worker_processes from
# the cgroup CPU limit when NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE is set. The stand-in
# does a simplified version (cgroup v1 and v2 CPU quota, else leaves nginx.conf alone).

set -eu

ME=$(basename "$0")

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}

[ "${NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE:-}" ] || exit 0

touch /etc/nginx/nginx.conf 2>/dev/null || { entrypoint_log "$ME: error: can not modify /etc/nginx/nginx.conf (read-only file system?)"; exit 0; }

ncpu=$(nproc)
quota="" period=""
if [ -r /sys/fs/cgroup/cpu.max ]; then
    read -r quota period < /sys/fs/cgroup/cpu.max || true
    if [ "$quota" = "max" ]; then quota=""; fi
elif [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)
    period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)
    if [ "$quota" -le 0 ] 2>/dev/null; then quota=""; fi
fi
if [ -n "$quota" ] && [ -n "$period" ] && [ "$period" -gt 0 ]; then
    limit=$(( (quota + period - 1) / period ))
    if [ "$limit" -lt "$ncpu" ]; then ncpu=$limit; fi
fi
[ "$ncpu" -ge 1 ] || ncpu=1

sed -i.bak -r 's/^(worker_processes)(.*)$/# Commented out by '"$ME"' on '"$(date)"'\n#\1\2\n\1 '"$ncpu"';/' /etc/nginx/nginx.conf
entrypoint_log "$ME: info: worker_processes set to $ncpu"
