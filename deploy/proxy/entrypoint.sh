#!/bin/sh
# Entrypoint of the proxy image: render the configuration from the environment, empty
# the edge cache and the spool, then hand PID 1 to nginx (which refuses to start, saying
# why, if the result is wrong).
set -eu
extagram-render-config
# Both are volumes (on disk) but hold nothing worth keeping: a cached photo would keep
# the lifetime it was cached with (EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS, lowered, would
# not hold for it), and the half-written files of a worker that died stay until removed.
find /var/cache/extagram /var/spool/extagram -mindepth 1 -delete
exec "$@"
