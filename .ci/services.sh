#!/usr/bin/env bash
# Start or stop throwaway MariaDB and Redis servers on loopback for the test suite.
# Ports and data live apart from any system instance: nothing else is touched. The ports
# are below Linux's ephemeral range (32768-60999), where an outgoing connection of a
# build or a benchmark can hold the same number at the wrong moment (seen once: 33306).
set -euo pipefail
STATE=${EXTAGRAM_CI_STATE:-/tmp/extagram-ci}
DB_PORT=${CI_DB_PORT:-23306}
REDIS_PORT=${CI_REDIS_PORT:-26379}
HERE=$(cd "$(dirname "$0")" && pwd)

start() {
    stop
    rm -rf "$STATE" && mkdir -p "$STATE/mariadb" && chown mysql:mysql "$STATE/mariadb"
    mariadb-install-db --user=mysql --datadir="$STATE/mariadb/data" --auth-root-authentication-method=socket \
        --skip-test-db >"$STATE/mariadb-install.log" 2>&1
    mariadbd --user=mysql --datadir="$STATE/mariadb/data" --socket="$STATE/mariadb/mysqld.sock" \
        --pid-file="$STATE/mariadb/mysqld.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --log-error="$STATE/mariadb/error.log" &
    for _ in $(seq 60); do
        mariadb-admin --socket="$STATE/mariadb/mysqld.sock" ping >/dev/null 2>&1 && break
        sleep 1
    done
    if ! mariadb-admin --socket="$STATE/mariadb/mysqld.sock" ping >/dev/null 2>&1; then
        echo "MariaDB did not start on 127.0.0.1:$DB_PORT; its log ends with:" >&2
        tail -n 5 "$STATE/mariadb/error.log" >&2
        exit 1
    fi
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    mariadb --socket="$STATE/mariadb/mysqld.sock" <<SQL
CREATE DATABASE extagram CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'extagram'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL ON extagram.* TO 'extagram'@'127.0.0.1';
GRANT ALL ON \`test\\_extagram%\`.* TO 'extagram'@'127.0.0.1';
SQL
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
    for _ in $(seq 20); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.5; done
    if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        echo "Redis did not start on 127.0.0.1:$REDIS_PORT; its log ends with:" >&2
        tail -n 5 "$STATE/redis.log" >&2
        exit 1
    fi
    cat >"$HERE/services.env" <<ENV
CI_DATABASE_URL=mysql://extagram:$password@127.0.0.1:$DB_PORT/extagram
CI_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
ENV
    echo "MariaDB on 127.0.0.1:$DB_PORT, Redis on 127.0.0.1:$REDIS_PORT"
}

stop() {
    for pidfile in "$STATE/mariadb/mysqld.pid" "$STATE/redis.pid"; do
        if [ -f "$pidfile" ]; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
        fi
    done
    for _ in $(seq 30); do
        [ -f "$STATE/mariadb/mysqld.pid" ] || [ -f "$STATE/redis.pid" ] || break
        sleep 0.5
    done
}

"${1:-start}"
