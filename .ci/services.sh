# shellcheck shell=bash
# Throwaway PostgreSQL 15 and Redis on 127.0.0.1, for CI and for developers:
#
#   source .ci/services.sh
#   services_start /tmp/tertulia-services     # exports DATABASE_URL and REDIS_URL
#   .venv/bin/pytest
#   services_stop
#
# Both listen on loopback only, on free ports, with durability switched off
# (data is thrown away). Everything is stopped by PID / data directory.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root; CI runs as root. Use the `postgres` account the
# Debian packages create, or a dedicated unprivileged one.
_pg_user() {
    if [ "$(id -u)" != 0 ]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id tertulia-ci >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin tertulia-ci
        echo tertulia-ci
    fi
}

_as_pg_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$SERVICES_PG_USER" -- "$@"
    else
        "$@"
    fi
}

services_start() {
    local root="$1"
    mkdir -p "$root"
    SERVICES_ROOT="$(cd "$root" && pwd)"
    SERVICES_PG_USER="$(_pg_user)"
    export SERVICES_ROOT SERVICES_PG_USER

    # --- PostgreSQL ---------------------------------------------------------------
    local pgdata="$SERVICES_ROOT/pgdata" pgsock="$SERVICES_ROOT/pgsock" password
    password="$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
    mkdir -p "$pgdata" "$pgsock"
    printf '%s\n' "$password" >"$SERVICES_ROOT/pgpass"
    chown -R "$SERVICES_PG_USER" "$SERVICES_ROOT"
    chmod 700 "$pgdata"
    chmod 600 "$SERVICES_ROOT/pgpass"
    if ! _as_pg_user test -w "$SERVICES_ROOT"; then
        echo "services: $SERVICES_PG_USER cannot reach $SERVICES_ROOT: use a folder whose parents it can enter" >&2
        return 1
    fi
    SERVICES_PG_PORT="$(_free_port)"
    export SERVICES_PG_PORT
    _as_pg_user "$PG_BIN/initdb" --pgdata="$pgdata" --username=tertulia --pwfile="$SERVICES_ROOT/pgpass" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$SERVICES_ROOT/initdb.log" 2>&1 \
        || { cat "$SERVICES_ROOT/initdb.log" >&2; return 1; }
    # fsync off etc.: a CI database is thrown away, so trade durability for speed.
    _as_pg_user "$PG_BIN/pg_ctl" --pgdata="$pgdata" --log="$SERVICES_ROOT/postgresql.log" --wait --timeout=60 \
        -o "-c listen_addresses=127.0.0.1 -p $SERVICES_PG_PORT -k $pgsock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$SERVICES_ROOT/postgresql.log" >&2; return 1; }
    PGPASSWORD="$password" "$PG_BIN/psql" --quiet --no-psqlrc -h 127.0.0.1 -p "$SERVICES_PG_PORT" -U tertulia \
        -d postgres -c "CREATE DATABASE tertulia" >/dev/null
    # The role is the cluster's superuser, so pytest-django can create its test_ databases.
    export DATABASE_URL="postgresql://tertulia:${password}@127.0.0.1:${SERVICES_PG_PORT}/tertulia"

    # --- Redis ----------------------------------------------------------------------
    SERVICES_REDIS_PORT="$(_free_port)"
    export SERVICES_REDIS_PORT
    redis-server --port "$SERVICES_REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
        --dir "$SERVICES_ROOT" --pidfile "$SERVICES_ROOT/redis.pid" --logfile "$SERVICES_ROOT/redis.log"
    local tries=0
    until [ "$(redis-cli -h 127.0.0.1 -p "$SERVICES_REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            cat "$SERVICES_ROOT/redis.log" >&2
            return 1
        fi
        sleep 0.1
    done
    export REDIS_URL="redis://127.0.0.1:${SERVICES_REDIS_PORT}/0"
}

services_stop() {
    [ -n "${SERVICES_ROOT:-}" ] || return 0
    if [ -f "$SERVICES_ROOT/pgdata/postmaster.pid" ]; then
        _as_pg_user "$PG_BIN/pg_ctl" --pgdata="$SERVICES_ROOT/pgdata" --mode=fast --wait --timeout=30 stop \
            >/dev/null 2>&1 || true
    fi
    if [ -f "$SERVICES_ROOT/redis.pid" ]; then
        local pid
        pid="$(cat "$SERVICES_ROOT/redis.pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
}
