#!/bin/bash
# Container health probe for the app image: GET http://127.0.0.1:$EXTAGRAM_PORT_INTERNAL$PATH
# over bash's /dev/tcp. No Python: compose runs it every few seconds in four containers,
# and a Python start costs ~20x more CPU than this (it also slowed every warm restart).
# Sends a Host header the app accepts (the first concrete entry of ALLOWED_HOSTS).
# Exit 0 when the status is 200, 1 otherwise.
#
#   extagram-healthcheck [PATH]        # default /healthz; /readyz also checks db + cache
set -u

path=${1:-/healthz}
port=${EXTAGRAM_PORT_INTERNAL:-8000}
timeout=${HEALTHCHECK_TIMEOUT:-2.5}

host=localhost
IFS=, read -ra allowed <<<"${ALLOWED_HOSTS:-}"
for candidate in "${allowed[@]}"; do
    candidate=${candidate//[[:space:]]/}
    candidate=${candidate#.}
    if [[ -n $candidate && $candidate != "*" ]]; then
        host=$candidate
        break
    fi
done

if ! { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    echo "unhealthy: nothing listens on port $port" >&2
    exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: extagram-healthcheck\r\n\r\n' \
    "$path" "$host" >&3
if ! read -r -t "$timeout" status_line <&3; then
    echo "unhealthy: no answer within ${timeout}s" >&2
    exit 1
fi
status_line=${status_line%$'\r'}
if [[ $status_line =~ ^HTTP/1\.[01]\ 200\  ]]; then
    exit 0
fi
echo "unhealthy: $status_line" >&2
exit 1
