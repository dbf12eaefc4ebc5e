#!/bin/sh
# Entrypoint of the media image: render the configuration (volume or bucket), empty the
# bucket cache, then hand PID 1 to nginx.
set -eu
extagram-media-render
# A volume, but nothing worth keeping: a cached photo would keep the lifetime it was
# cached with (EXTAGRAM_MEDIA_CACHE_SECONDS, lowered, would not hold for it), and the
# half-written files of a worker that died stay until removed.
find /var/cache/extagram -mindepth 1 -delete
exec "$@"
