#!/bin/sh
# Entrypoint of the proxy image: render the configuration from the environment, then
# hand PID 1 to nginx (which refuses to start, saying why, if the result is wrong).
set -eu
extagram-render-config
exec "$@"
