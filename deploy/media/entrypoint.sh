#!/bin/sh
# Entrypoint of the media image: render the configuration (volume or bucket), then hand
# PID 1 to nginx.
set -eu
extagram-media-render
exec "$@"
