#!/bin/bash
# TEST SCAFFOLDING: entrypoint of the MariaDB stand-in. Implements the part of the official
# mariadb image's docker-entrypoint.sh a compose stack relies on:
#   MARIADB_ROOT_PASSWORD[_HASH], MARIADB_ALLOW_EMPTY_ROOT_PASSWORD, MARIADB_RANDOM_ROOT_PASSWORD,
#   MARIADB_ROOT_HOST, MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD[_HASH],
#   MARIADB_INITDB_SKIP_TZINFO, MARIADB_HEALTHCHECK_GRANTS, their *_FILE forms and the MYSQL_*
#   aliases; first-start initialisation of an empty datadir (temporary server without
#   networking, so healthchecks fail until init is done); /docker-entrypoint-initdb.d/
#   (*.sh, *.sql, *.sql.gz, *.sql.xz, *.sql.zst); drops root to the mysql user.
# Passwords are never printed, never put on a command line (they go through stdin or a
# defaults file on a pipe).
set -eo pipefail
shopt -s nullglob

mysql_log() {
	local type="$1"; shift
	printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$type" "$*"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() { mysql_log ERROR "$@" >&2; exit 1; }

# usage: file_env VAR [DEFAULT]
# loads VAR from VAR, VAR_FILE, MYSQL_* alias or MYSQL_*_FILE (in that order of preference)
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	local mysqlVar="${var/#MARIADB_/MYSQL_}"
	local mysqlFileVar="${mysqlVar}_FILE"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		mysql_error "Both $var and $fileVar are set (but are exclusive)"
	fi
	if [ "${!mysqlVar:-}" ] && [ "${!mysqlFileVar:-}" ] && [ "$mysqlVar" != "$var" ]; then
		mysql_error "Both $mysqlVar and $mysqlFileVar are set (but are exclusive)"
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		[ -r "${!fileVar}" ] || mysql_error "$fileVar=${!fileVar}: file not readable"
		val="$(< "${!fileVar}")"
	elif [ "$mysqlVar" != "$var" ] && [ "${!mysqlVar:-}" ]; then
		val="${!mysqlVar}"
	elif [ "$mysqlVar" != "$var" ] && [ "${!mysqlFileVar:-}" ]; then
		[ -r "${!mysqlFileVar}" ] || mysql_error "$mysqlFileVar=${!mysqlFileVar}: file not readable"
		val="$(< "${!mysqlFileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar" "$mysqlVar" "$mysqlFileVar"
}

# is the user asking for help/version rather than a server?
_mysql_want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?'|--help|--print-defaults|-V|--version) return 0 ;;
		esac
	done
	return 1
}

# value of a server option as the server sees it (config files + arguments)
mysql_get_config() {
	local conf="$1"; shift
	"$@" --verbose --help 2>/dev/null \
		| awk -v conf="$conf" '$1 == conf && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

mysql_check_config() {
	local toRun=( "$@" --verbose --help --log-bin-index="$(mktemp -u)" ) errors
	if ! errors="$("${toRun[@]}" 2>&1 >/dev/null)"; then
		mysql_error $'mariadbd failed while attempting to check config\n\tcommand was: '"${toRun[*]}"$'\n\t'"$errors"
	fi
}

docker_setup_env() {
	declare -g DATADIR SOCKET PORT DATABASE_ALREADY_EXISTS
	DATADIR="$(mysql_get_config 'datadir' "$@")"
	SOCKET="$(mysql_get_config 'socket' "$@")"
	PORT="$(mysql_get_config 'port' "$@")"
	DATADIR="${DATADIR%/}"
	: "${DATADIR:=/var/lib/mysql}" "${SOCKET:=/run/mysqld/mysqld.sock}" "${PORT:=3306}"

	file_env 'MARIADB_ROOT_HOST' '%'
	file_env 'MARIADB_DATABASE'
	file_env 'MARIADB_USER'
	file_env 'MARIADB_PASSWORD'
	file_env 'MARIADB_PASSWORD_HASH'
	file_env 'MARIADB_ROOT_PASSWORD'
	file_env 'MARIADB_ROOT_PASSWORD_HASH'
	file_env 'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD'
	file_env 'MARIADB_RANDOM_ROOT_PASSWORD'
	file_env 'MARIADB_INITDB_SKIP_TZINFO'
	file_env 'MARIADB_HEALTHCHECK_GRANTS'
	# the official image also accepts these (older) spellings
	: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=${MARIADB_ALLOW_EMPTY_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}}"
	: "${MARIADB_INITDB_SKIP_TZINFO:=${MYSQL_INITDB_SKIP_TZINFO:-}}"
	export MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MARIADB_INITDB_SKIP_TZINFO

	DATABASE_ALREADY_EXISTS=
	if [ -d "$DATADIR/mysql" ]; then
		DATABASE_ALREADY_EXISTS='true'
	fi
}

docker_create_db_directories() {
	local user; user="$(id -u)"
	mkdir -p "$DATADIR"
	if [ "$user" = "0" ]; then
		# this will cause less disk access than `chown -R`
		find "$DATADIR" \! -user mysql \( -exec chown mysql: '{}' + -o -true \)
		# See https://github.com/MariaDB/mariadb-docker/issues/363
		find "${SOCKET%/*}" -maxdepth 0 \! -user mysql \( -exec chown mysql: '{}' \; -o -true \)
	fi
}

docker_verify_minimum_env() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ] \
		&& [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		mysql_error $'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
	fi
	if [ -n "$MARIADB_USER" ] && [ "$MARIADB_USER" = 'root' ]; then
		mysql_error $'MARIADB_USER="root", MARIADB_USER and MARIADB_PASSWORD are for configuring a regular user and cannot be used for the root user\n\tRemove MARIADB_USER="root" and use one of the following to control the root user password:\n\t- MARIADB_ROOT_PASSWORD\n\t- MARIADB_ALLOW_EMPTY_ROOT_PASSWORD\n\t- MARIADB_RANDOM_ROOT_PASSWORD'
	fi
	if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD" ] && [ -z "$MARIADB_PASSWORD_HASH" ]; then
		mysql_warn "MARIADB_USER specified, but missing MARIADB_PASSWORD, MARIADB_PASSWORD_HASH; $MARIADB_USER will be created without a password"
	fi
	if [ -z "$MARIADB_USER" ] && { [ -n "$MARIADB_PASSWORD" ] || [ -n "$MARIADB_PASSWORD_HASH" ]; }; then
		mysql_warn "MARIADB_PASSWORD or MARIADB_PASSWORD_HASH specified without MARIADB_USER; it will be ignored"
	fi
}

docker_init_database_dir() {
	mysql_note "Initializing database files"
	local mariadbdArgs=() arg
	for arg in "${@:2}"; do
		if [[ "$arg" =~ [[:space:]] ]]; then
			mysql_warn "Not passing argument '$arg' to mariadb-install-db because mariadb-install-db does not support arguments with whitespace."
		else
			mariadbdArgs+=("$arg")
		fi
	done
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
		"${mariadbdArgs[@]}" \
		--skip-test-db \
		--old-mode='UTF8_IS_UTF8MB3' \
		--default-time-zone=SYSTEM --enforce-storage-engine= \
		--skip-log-bin \
		--expire-logs-days=0 \
		--loose-innodb_buffer_pool_load_at_startup=0 \
		--loose-innodb_buffer_pool_dump_at_shutdown=0
	mysql_note "Database files initialized"
}

# a [client] password option file on a pipe: the password never appears in `ps`
_mariadb_passfile() {
	if [ $# -gt 0 ] && [ -n "$MARIADB_ROOT_PASSWORD" ]; then
		local escaped=${MARIADB_ROOT_PASSWORD//\\/\\\\}
		escaped=${escaped//\"/\\\"}
		printf '[client]\npassword="%s"\n' "$escaped"
	fi
}

# usage: docker_process_sql [--dont-use-mysql-root-password] [mariadb-cli-args]
# SQL comes on stdin
docker_process_sql() {
	local passfileArgs=()
	if [ '--dont-use-mysql-root-password' = "$1" ]; then
		shift
		mariadb --defaults-extra-file=<( _mariadb_passfile ) --protocol=socket \
			-uroot -hlocalhost --socket="${SOCKET}" --skip-ssl "$@"
		return
	fi
	if [ -n "$MARIADB_DATABASE" ]; then
		set -- --database="$MARIADB_DATABASE" "$@"
	fi
	mariadb --defaults-extra-file=<( _mariadb_passfile 1 ) --protocol=socket \
		-uroot -hlocalhost --socket="${SOCKET}" --skip-ssl --comments "$@"
}

docker_temp_server_start() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="${SOCKET}" --wsrep_on=OFF \
		--expire-logs-days=0 \
		--skip-slave-start \
		--loose-innodb_buffer_pool_load_at_startup=0 \
		--skip-ssl --ssl-cert='' --ssl-key='' --ssl-ca='' \
		&
	declare -g MARIADB_PID
	MARIADB_PID=$!
	mysql_note "Waiting for server startup"
	local i
	for i in {60..0}; do
		if docker_process_sql --dont-use-mysql-root-password --database=mysql \
			<<<'SELECT 1' &>/dev/null; then
			break
		fi
		if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
			mysql_error "Unable to start server (temporary server exited during initialization)."
		fi
		sleep 1
	done
	if [ "$i" = 0 ]; then
		mysql_error "Unable to start server."
	fi
}

docker_temp_server_stop() {
	kill "$MARIADB_PID"
	wait "$MARIADB_PID"
}

# escape a string for a single-quoted SQL literal
docker_sql_escape_string_literal() {
	local newline=$'\n'
	local escaped=${1//\\/\\\\}
	escaped="${escaped//$newline/\\n}"
	echo "${escaped//\'/\\\'}"
}

create_healthcheck_users() {
	local healthCheckGrant=USAGE
	if [ -n "$MARIADB_HEALTHCHECK_GRANTS" ]; then
		healthCheckGrant="$MARIADB_HEALTHCHECK_GRANTS"
	fi
	local healthCheckConnectPass
	healthCheckConnectPass="$(LC_ALL=C tr -dc '[:alnum:]' < /dev/urandom | head -c 32 || true)"
	[ ${#healthCheckConnectPass} -eq 32 ] || mysql_error "could not generate a healthcheck password"
	local host
	for host in 127.0.0.1 ::1 localhost; do
		echo "CREATE USER IF NOT EXISTS healthcheck@'$host' IDENTIFIED BY '$healthCheckConnectPass';"
		echo "SET PASSWORD FOR healthcheck@'$host' = PASSWORD('$healthCheckConnectPass');"
		echo "GRANT $healthCheckGrant ON *.* TO healthcheck@'$host';"
	done
	local maskPreserve
	maskPreserve=$(umask -p)
	umask 0077
	printf '[mariadb-client]\nport=%s\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=tcp\n' \
		"$PORT" "$SOCKET" "$healthCheckConnectPass" > "$DATADIR"/.my-healthcheck.cnf
	$maskPreserve
}

docker_setup_db() {
	# timezone tables, like the official image (skip with MARIADB_INITDB_SKIP_TZINFO=1)
	if [ -z "$MARIADB_INITDB_SKIP_TZINFO" ] && [ -d /usr/share/zoneinfo ]; then
		mysql_note "Loading timezone tables"
		{
			echo "SET @@SESSION.SQL_LOG_BIN=0;"
			mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null
		} | docker_process_sql --dont-use-mysql-root-password --database=mysql
	fi

	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD="$(LC_ALL=C tr -dc '[:alnum:]' < /dev/urandom | head -c 32 || true)"
		export MARIADB_ROOT_PASSWORD
		# The official image prints the generated password here. The stand-in never prints
		# secrets; with a random root password, root is simply not usable from outside.
		mysql_note "GENERATED ROOT PASSWORD: (not printed by the CI stand-in)"
	fi

	local rootPasswordEscaped=
	if [ -n "$MARIADB_ROOT_PASSWORD" ]; then
		rootPasswordEscaped=$(docker_sql_escape_string_literal "${MARIADB_ROOT_PASSWORD}")
	fi

	local rootCreate=
	if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != 'localhost' ]; then
		local rootIdent="IDENTIFIED BY '${rootPasswordEscaped}'"
		if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
			rootIdent="IDENTIFIED BY PASSWORD '${MARIADB_ROOT_PASSWORD_HASH}'"
		fi
		rootCreate="CREATE USER 'root'@'${MARIADB_ROOT_HOST}' ${rootIdent} ;
GRANT ALL ON *.* TO 'root'@'${MARIADB_ROOT_HOST}' WITH GRANT OPTION ;
GRANT PROXY ON ''@'%' TO 'root'@'${MARIADB_ROOT_HOST}' WITH GRANT OPTION;"
	fi

	local rootLocalhostPass=
	declare -g ROOT_LOCALHOST_PASS_HASH_SQL=
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		# applied after /docker-entrypoint-initdb.d, which still runs with an empty password
		ROOT_LOCALHOST_PASS_HASH_SQL="SET PASSWORD FOR 'root'@'localhost'= '${MARIADB_ROOT_PASSWORD_HASH}';"
	elif [ -n "$MARIADB_ROOT_PASSWORD" ]; then
		rootLocalhostPass="SET PASSWORD FOR 'root'@'localhost'= PASSWORD('${rootPasswordEscaped}');"
	fi

	local createDatabase=
	if [ -n "$MARIADB_DATABASE" ]; then
		mysql_note "Creating database ${MARIADB_DATABASE}"
		createDatabase="CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE//\`/\`\`}\`;"
	fi

	local createUser= userGrants=
	if [ -n "$MARIADB_USER" ]; then
		mysql_note "Creating user ${MARIADB_USER}"
		local userIdent=
		if [ -n "$MARIADB_PASSWORD_HASH" ]; then
			userIdent="IDENTIFIED BY PASSWORD '$MARIADB_PASSWORD_HASH'"
		elif [ -n "$MARIADB_PASSWORD" ]; then
			userIdent="IDENTIFIED BY '$(docker_sql_escape_string_literal "${MARIADB_PASSWORD}")'"
		fi
		local userEscaped
		userEscaped=$(docker_sql_escape_string_literal "${MARIADB_USER}")
		createUser="CREATE USER '${userEscaped}'@'%' ${userIdent};"
		if [ -n "$MARIADB_DATABASE" ]; then
			mysql_note "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE}"
			local dbEscaped="${MARIADB_DATABASE//\`/\`\`}"
			userGrants="GRANT ALL ON \`${dbEscaped//_/\\_}\`.* TO '${userEscaped}'@'%';"
		fi
	fi

	mysql_note "Securing system users (equivalent to running mysql_secure_installation)"
	local createHealthCheckUsers
	createHealthCheckUsers=$(create_healthcheck_users)

	# SQL on stdin only: nothing here reaches a log or a command line
	docker_process_sql --dont-use-mysql-root-password --binary-mode <<-EOSQL
		SET @orig_sql_log_bin= @@SESSION.SQL_LOG_BIN;
		SET @@SESSION.SQL_LOG_BIN=0;
		SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname,'\'');
		DELETE FROM mysql.global_priv WHERE User='';
		${rootLocalhostPass}
		${rootCreate}
		${createHealthCheckUsers}
		SET @@SESSION.SQL_LOG_BIN=@orig_sql_log_bin;
		${createDatabase}
		${createUser}
		${userGrants}
	EOSQL
}

# usage: docker_process_init_files [file [file [...]]]
docker_process_init_files() {
	echo
	local f
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					mysql_note "$0: running $f"
					"$f"
				else
					mysql_note "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql)     mysql_note "$0: running $f"; docker_process_sql < "$f"; echo ;;
			*.sql.gz)  mysql_note "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo ;;
			*.sql.xz)  mysql_note "$0: running $f"; xzcat "$f" | docker_process_sql; echo ;;
			*.sql.zst) mysql_note "$0: running $f"; zstd -dc "$f" | docker_process_sql; echo ;;
			*)         mysql_warn "$0: ignoring $f" ;;
		esac
		echo
	done
}

_main() {
	# if command starts with an option, prepend mariadbd
	if [ "${1:0:1}" = '-' ]; then
		set -- mariadbd "$@"
	fi

	if { [ "$1" = 'mariadbd' ] || [ "$1" = 'mysqld' ]; } && ! _mysql_want_help "$@"; then
		mysql_note "Entrypoint script for MariaDB Server (Extagram CI stand-in) started."

		mysql_check_config "$@"
		docker_setup_env "$@"
		docker_create_db_directories

		# If container is started as root user, restart as dedicated mysql user
		if [ "$(id -u)" = "0" ]; then
			mysql_note "Switching to dedicated user 'mysql'"
			exec gosu mysql "${BASH_SOURCE[0]}" "$@"
		fi

		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			docker_verify_minimum_env

			# check dir permissions to reduce likelihood of half-initialized database
			ls /docker-entrypoint-initdb.d/ > /dev/null

			docker_init_database_dir "$@"

			mysql_note "Starting temporary server"
			docker_temp_server_start "$@"
			mysql_note "Temporary server started."

			docker_setup_db
			docker_process_init_files /docker-entrypoint-initdb.d/*
			if [ -n "$ROOT_LOCALHOST_PASS_HASH_SQL" ]; then
				docker_process_sql --dont-use-mysql-root-password <<<"$ROOT_LOCALHOST_PASS_HASH_SQL"
			fi

			mysql_note "Stopping temporary server"
			docker_temp_server_stop
			mysql_note "Temporary server stopped"
			echo
			mysql_note "MariaDB init process done. Ready for start up."
			echo
		else
			mysql_note "MariaDB data directory $DATADIR already contains a database; skipping initialization"
		fi
		# secrets are not needed any more; keep them out of the server's environment
		unset MARIADB_ROOT_PASSWORD MARIADB_PASSWORD MARIADB_ROOT_PASSWORD_HASH MARIADB_PASSWORD_HASH \
			MYSQL_ROOT_PASSWORD MYSQL_PASSWORD
	fi
	exec "$@"
}

# If we are sourced from elsewhere, don't perform any further actions
if ! [ "${BASH_SOURCE[0]}" != "${0}" ]; then
	_main "$@"
fi
