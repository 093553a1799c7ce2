#!/usr/bin/env bash
# A throwaway PostgreSQL server for the integration tests.
#
#   eval "$(.ci/postgres.sh start)"   # installs PostgreSQL from Debian's packages
#                                      # if needed, starts a fresh cluster on a free
#                                      # loopback port, prints
#                                      # export HIPOPAY_TEST_POSTGRES_DSN='postgres://...'
#                                      # export HIPOPAY_TEST_PG_RESTART=...  (a shell
#                                      # command restarting that server: the chaos test)
#   .ci/postgres.sh stop               # stops it and removes its folder
#
# Only the export lines go to stdout; progress goes to stderr. The cluster
# lives in a temporary folder; its whereabouts are kept in
# $HIPOPAY_PG_STATE_DIR/state (default /tmp/hipopay-pg/state). As root, the
# server runs as the system user "postgres" (created as "hipopay-pg" if there
# is none), since PostgreSQL refuses to run as root. It is tuned for speed, not
# durability (fsync off): never point it at data you want to keep.
set -euo pipefail

STATE_DIR=${HIPOPAY_PG_STATE_DIR:-/tmp/hipopay-pg}
STATE_FILE=$STATE_DIR/state
DB_NAME=hipopay_test
DB_USER=hipopay

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# find_bin_dir prints the folder holding initdb, pg_ctl and pg_isready,
# preferring the newest /usr/lib/postgresql/*/bin.
find_bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
        echo "$dir"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
        if [[ -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    fi
    return 1
}

install_postgres() {
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed and installing it needs root"
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

# run_as_owner runs a command as the cluster's owner.
run_as_owner() {
    if [[ $(id -u) -ne 0 ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$OWNER" -- "$@"
    else
        su -s /bin/sh "$OWNER" -c "$(printf '%q ' "$@")"
    fi
}

pick_owner() {
    if [[ $(id -u) -ne 0 ]]; then
        OWNER=$(id -un)
    elif id postgres >/dev/null 2>&1; then
        OWNER=postgres
    else
        OWNER=hipopay-pg
        if ! id "$OWNER" >/dev/null 2>&1; then
            log "creating system user $OWNER"
            useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER" >&2
        fi
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port tries
    for tries in $(seq 1 200); do
        port=$((20000 + RANDOM % 30000))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

cmd_stop() {
    if [[ ! -f $STATE_FILE ]]; then
        log "no server to stop ($STATE_FILE absent)"
        return 0
    fi
    # shellcheck disable=SC1090
    source "$STATE_FILE"
    if [[ -n ${PG_DIR:-} && -d $PG_DIR/data ]]; then
        log "stopping PostgreSQL on port ${PG_PORT:-?}"
        OWNER=$PG_OWNER
        run_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -t 60 >&2 ||
            log "pg_ctl stop failed (server already gone?)"
    fi
    if [[ -n ${PG_DIR:-} && $PG_DIR == */hipopay-pg.* ]]; then
        rm -rf -- "$PG_DIR"
    fi
    rm -f -- "$STATE_FILE"
}

cmd_start() {
    if [[ -f $STATE_FILE ]]; then
        log "a previous server is recorded in $STATE_FILE: stopping it first"
        cmd_stop
    fi
    local bin
    if ! bin=$(find_bin_dir); then
        install_postgres
        bin=$(find_bin_dir) || die "PostgreSQL's server binaries not found after installing"
    fi
    log "using $bin ($("$bin/postgres" --version))"
    pick_owner

    local dir
    dir=$(mktemp -d /tmp/hipopay-pg.XXXXXX)
    chmod 700 "$dir"
    [[ $(id -u) -ne 0 ]] || chown "$OWNER" "$dir"

    local password
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pwfile"
    chmod 600 "$dir/pwfile"
    [[ $(id -u) -ne 0 ]] || chown "$OWNER" "$dir/pwfile"

    mkdir -p "$STATE_DIR"
    {
        printf 'PG_DIR=%q\n' "$dir"
        printf 'PG_BIN=%q\n' "$bin"
        printf 'PG_OWNER=%q\n' "$OWNER"
    } >"$STATE_FILE"

    log "initialising a cluster in $dir/data as $OWNER"
    run_as_owner "$bin/initdb" -D "$dir/data" -U "$DB_USER" --pwfile="$dir/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$dir/pwfile"

    local port started=0 attempt
    for attempt in 1 2 3 4 5; do
        port=$(free_port) || die "no free loopback port found"
        log "starting PostgreSQL on 127.0.0.1:$port"
        if run_as_owner "$bin/pg_ctl" start -D "$dir/data" -w -t 60 -l "$dir/server.log" \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2; then
            started=1
            break
        fi
        log "start on port $port failed (attempt $attempt):"
        tail -n 5 "$dir/server.log" >&2 || true
    done
    [[ $started -eq 1 ]] || die "PostgreSQL did not start"
    printf 'PG_PORT=%q\n' "$port" >>"$STATE_FILE"

    local ready=0 i
    for i in $(seq 1 60); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
            ready=1
            break
        fi
        sleep 0.5
    done
    [[ $ready -eq 1 ]] || die "PostgreSQL on port $port not ready after 30 s"

    PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" >&2 ||
        die "createdb failed"
    log "ready: database $DB_NAME on 127.0.0.1:$port"
    printf "export HIPOPAY_TEST_POSTGRES_DSN='postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable'\n" \
        "$DB_USER" "$password" "$port" "$DB_NAME"
    # The chaos test restarts the server mid-storm with this command: a fast
    # shutdown (connections are cut) and a start with the same options
    # (pg_ctl keeps them in postmaster.opts), waiting until it accepts
    # connections again.
    local restart
    restart="$bin/pg_ctl restart -D $dir/data -m fast -w -t 60 -l $dir/server.log"
    if [[ $(id -u) -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            restart="runuser -u $OWNER -- $restart"
        else
            restart="su -s /bin/sh $OWNER -c '$restart'"
        fi
    fi
    printf "export HIPOPAY_TEST_PG_RESTART=%q\n" "$restart"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
