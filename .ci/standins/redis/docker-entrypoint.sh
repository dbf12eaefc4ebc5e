#!/bin/sh
# TEST SCAFFOLDING: entrypoint of the Redis stand-in, after the official redis image's one.
# The official image compiles Redis with protected mode off by default; Debian's build keeps
# it on, so this script adds `--protected-mode no` unless the command line or the given
# config file says otherwise.
set -e

# first arg is `-f` or `--some-option`
# or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

if [ "$1" = 'redis-server' ]; then
	protected_mode_given=
	for arg; do
		case "$arg" in
			--protected-mode|--protected-mode=*) protected_mode_given=1 ;;
		esac
	done
	# a config file is the first argument after redis-server when it does not start with -
	if [ -z "$protected_mode_given" ] && [ -n "${2:-}" ] && [ "${2#-}" = "$2" ] && [ -r "$2" ] \
		&& grep -qiE '^[[:space:]]*protected-mode[[:space:]]' "$2"; then
		protected_mode_given=1
	fi
	if [ -z "$protected_mode_given" ]; then
		set -- "$@" --protected-mode no
	fi
fi

# set an appropriate umask (if one isn't set already)
# - https://github.com/docker-library/redis/issues/305
# - https://github.com/redis/redis/blob/bb875603fb7ff3f9d19aad906bd45d7db98d9a39/utils/systemd-redis_server.service#L37
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
