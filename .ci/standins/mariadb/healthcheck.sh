#!/bin/bash
# TEST SCAFFOLDING: /usr/local/bin/healthcheck.sh of the MariaDB stand-in, compatible with the
# official image's script for the common tests:
#   healthcheck.sh [--su-mysql|--su=USER] [--datadir=DIR] [--no-defaults|--defaults-file=F]
#                  [--defaults-extra-file=F] [--defaults-group-suffix=S]
#                  --connect --innodb_initialized --innodb_buffer_pool_loaded --galera_online
# Tests run in the order given; the first failing test fails the check.
# By default it logs in as the `healthcheck` user created at initialisation, whose
# credentials (protocol=tcp) are in $DATADIR/.my-healthcheck.cnf. The temporary server used
# during initialisation runs without networking, so the check fails until init is finished.
set -eo pipefail

datadir=/var/lib/mysql
nodefaults=
def_file=
def_extra_file=
def_group_suffix=
verbose=
su_user=
tests=()

usage() { echo "usage: $0 [--su-mysql] [--datadir=DIR] [--defaults-extra-file=F] --connect --innodb_initialized ..." >&2; }

for arg; do
	case "$arg" in
		--connect|--innodb_initialized|--innodb_buffer_pool_loaded|--galera_online)
			tests+=("${arg#--}") ;;
		--su-mysql) su_user=mysql ;;
		--su=*) su_user=${arg#--su=} ;;
		--datadir=*) datadir=${arg#--datadir=} ;;
		--no-defaults) nodefaults=1 ;;
		--defaults-file=*) def_file=${arg#--defaults-file=} ;;
		--defaults-extra-file=*) def_extra_file=${arg#--defaults-extra-file=} ;;
		--defaults-group-suffix=*) def_group_suffix=${arg#--defaults-group-suffix=} ;;
		--verbose|-v) verbose=1 ;;
		--help|-h) usage; exit 0 ;;
		*)
			echo "healthcheck.sh: option $arg is not supported by the Extagram CI stand-in" >&2
			usage; exit 1 ;;
	esac
done

if [ -n "$su_user" ] && [ "$(id -u)" = 0 ]; then
	args=()
	for arg; do
		case "$arg" in --su-mysql|--su=*) ;; *) args+=("$arg") ;; esac
	done
	exec gosu "$su_user" "${BASH_SOURCE[0]}" "${args[@]}"
fi

if [ -z "$def_extra_file" ] && [ -z "$nodefaults" ] && [ -z "$def_file" ] \
	&& [ -r "$datadir/.my-healthcheck.cnf" ]; then
	def_extra_file="$datadir/.my-healthcheck.cnf"
fi

_process_sql() {
	mariadb ${nodefaults:+--no-defaults} \
		${def_file:+--defaults-file="$def_file"} \
		${def_extra_file:+--defaults-extra-file="$def_extra_file"} \
		${def_group_suffix:+--defaults-group-suffix="$def_group_suffix"} \
		--skip-ssl --skip-ssl-verify-server-cert \
		-B "$@"
}

# "connect": the server accepts TCP connections (the temporary init server does not).
connect() {
	local s
	s=$(_process_sql --skip-column-names -e 'select @@skip_networking' 2>/dev/null || true)
	case "$s" in
		0) return 0 ;;
		1) return 1 ;;
	esac
	# no SQL answer (e.g. access denied): like the official script, only "Can't connect" fails
	local out
	out=$(mariadb ${nodefaults:+--no-defaults} \
		${def_file:+--defaults-file="$def_file"} \
		${def_extra_file:+--defaults-extra-file="$def_extra_file"} \
		-h localhost --protocol tcp --skip-ssl --skip-ssl-verify-server-cert \
		-e 'select 1' 2>&1 || true)
	case "$out" in
		*"Can't connect"*) return 1 ;;
	esac
	return 0
}

innodb_initialized() {
	local s
	s=$(_process_sql --skip-column-names -e "select 1 from information_schema.ENGINES WHERE engine='innodb' AND support in ('YES', 'DEFAULT', 'ENABLED')" 2>/dev/null || true)
	[ "$s" = 1 ]
}

innodb_buffer_pool_loaded() {
	local s
	s=$(_process_sql --skip-column-names -e "select VARIABLE_VALUE from information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='Innodb_buffer_pool_load_status'" 2>/dev/null || true)
	[[ $s =~ 'load completed' ]]
}

galera_online() {
	local s
	s=$(_process_sql --skip-column-names -e "select 1 from information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_LOCAL_STATE' AND VARIABLE_VALUE='4'" 2>/dev/null || true)
	[ "$s" = 1 ]
}

if [ ${#tests[@]} -eq 0 ]; then
	echo "healthcheck.sh: no test given (e.g. --connect --innodb_initialized)" >&2
	exit 1
fi

for t in "${tests[@]}"; do
	if ! "$t"; then
		echo "healthcheck $t failed" >&2
		exit 1
	fi
	[ -z "$verbose" ] || echo "healthcheck $t successful"
done
exit 0
