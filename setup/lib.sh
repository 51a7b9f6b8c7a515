# shellcheck shell=bash
# Shared helpers for setup/test and setup/run. Source it; do not execute it.
#
# Globals set here: REPO, PG_BIN, PG_PORT, PG_PASSWORD, PG_SOCKET_DIR,
# PG_STARTED_HERE (1 if start_cluster started the server, 0 if it reused it).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '\033[1m[mfg]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[mfg] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# Odoo is a prerequisite, never installed by these scripts.
require_odoo() {
    if ! python3 -c 'import odoo' >/dev/null 2>&1; then
        die "Odoo 18 is not importable as \`odoo\`: install Odoo 18.0 (see README, Prerequisites)"
    fi
    python3 - <<'EOF' || die "Odoo 18.0 is required (see README, Prerequisites)"
import sys, odoo.release as r
sys.exit(0 if r.version_info[:2] == (18, 0) else 1)
EOF
}

# Odoo's CLI. `python3 -m odoo` rather than the `odoo` console script: the
# latter's pkg_resources check breaks on some setups (e.g. old setuptools vs
# normalized dist-info names) although Odoo itself imports fine.
run_odoo() { python3 -m odoo "$@"; }

# Directory holding the PostgreSQL server binaries (initdb, pg_ctl), or "".
_find_pg_bin() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    elif command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir
    fi
}

# Sets PG_BIN; installs the Debian postgresql package if no server is found.
ensure_postgres() {
    PG_BIN="$(_find_pg_bin)"
    if [[ -z "$PG_BIN" ]]; then
        log "PostgreSQL server not found: installing it with apt-get"
        [[ $EUID -eq 0 ]] || die "PostgreSQL server binaries missing; install the 'postgresql' package"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PG_BIN="$(_find_pg_bin)"
        [[ -n "$PG_BIN" ]] || die "PostgreSQL server binaries still not found after apt-get install"
    fi
}

# Browser tests (Odoo tours run by HttpCase) need Chromium and websocket-client;
# Odoo skips them without, and a skip fails our run: install Debian's chromium if missing.
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then
        return 0
    fi
    log "Chromium not found (browser tests need it): installing Debian's chromium with apt-get"
    [[ $EUID -eq 0 ]] || die "Chromium missing; install the 'chromium' package"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
        die "apt-get install chromium failed"
    fi
    command -v chromium >/dev/null 2>&1 || die "chromium still not found after apt-get install"
}

# Runs a command as the cluster owner (initdb refuses root: use 'postgres').
_as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Superuser psql/createdb over the cluster's unix socket (trusted locally).
pg_psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres "$@"; }
pg_createdb() { "$PG_BIN/createdb" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres "$@"; }

# start_cluster DIR: create (once) and start a throw-away-tuned cluster in
# DIR, listening on 127.0.0.1 only, with a superuser role 'odoo'.
# Reuses an existing cluster in DIR (and its password); if it is already
# running, reuses it as is.
start_cluster() {
    local dir="$1"
    [[ -n "${PG_BIN:-}" ]] || ensure_postgres
    mkdir -p "$dir"
    chmod 755 "$dir"
    PG_SOCKET_DIR="$dir/socket"
    local data="$dir/pgdata" state="$dir/cluster.env"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        mkdir -p "$data" "$PG_SOCKET_DIR"
        [[ $EUID -ne 0 ]] || chown postgres: "$data" "$PG_SOCKET_DIR"
        # Local socket: trust (the socket lives in DIR); TCP: password.
        _as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
        PG_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
        printf 'PG_PASSWORD=%s\n' "$PG_PASSWORD" >"$state"
        chmod 600 "$state"
    fi
    # shellcheck source=/dev/null
    source "$state"
    # shellcheck disable=SC2034  # read by the sourcing scripts
    PG_STARTED_HERE=0
    if _as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        PG_PORT="$(sed -n 5p "$data/postmaster.pid" | tr -d ' ')"   # line 5: port
        return 0
    fi
    PG_PORT="$(free_port)"
    # shellcheck disable=SC2034
    PG_STARTED_HERE=1
    # Throw-away clusters skip durability; MFG_PG_DURABLE=1 (setup/run, setup/bench) keeps PostgreSQL's defaults.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "${MFG_PG_DURABLE:-0}" != 1 ]] || durability=""
    _as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_SOCKET_DIR \
$durability -c max_connections=200" \
        >/dev/null || { tail -n 30 "$data/server.log" >&2; die "PostgreSQL did not start"; }
    pg_psql -d postgres <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'odoo') THEN
    CREATE ROLE odoo SUPERUSER LOGIN PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
EOF
}

# stop_cluster DIR: fast shutdown; silent if not running.
stop_cluster() {
    local data="$1/pgdata"
    if [[ -f "$data/postmaster.pid" ]]; then
        _as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

# Odoo's own addons dirs, comma-separated (<odoo>/addons, <odoo>/../addons).
odoo_addons_path() {
    python3 - <<'EOF'
import os, odoo
root = os.path.dirname(odoo.__file__)
dirs = [os.path.join(root, "addons"), os.path.normpath(os.path.join(root, "..", "addons"))]
print(",".join(d for d in dirs if os.path.isdir(d)))
EOF
}

# write_odoo_conf FILE DATA_DIR [KEY=VALUE ...]: Odoo config for the running
# cluster (PG_PORT, PG_PASSWORD). KEY=VALUE pairs add or override options.
# MFG_EXTRA_ADDONS_PATH (comma-separated dirs) is prepended to addons_path.
write_odoo_conf() {
    local file="$1" data_dir="$2" addons_path key kv
    shift 2
    addons_path="$(odoo_addons_path),$REPO/addons"
    [[ -z "${MFG_EXTRA_ADDONS_PATH:-}" ]] || addons_path="$MFG_EXTRA_ADDONS_PATH,$addons_path"
    mkdir -p "$data_dir"
    local -A opts=(
        [db_host]=127.0.0.1
        [db_port]="$PG_PORT"
        [db_user]=odoo
        [db_password]="$PG_PASSWORD"
        [addons_path]="$addons_path"
        [data_dir]="$data_dir"
        [admin_passwd]="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
        [log_level]=warn
        [without_demo]=all
        [workers]=0
        [max_cron_threads]=0
        [list_db]=False
        # Fernet key encrypting webhook secrets at rest (mfg_integration).
        [mfg_integration_key_file]="$data_dir/mfg_integration.key"
    )
    for kv in "$@"; do opts[${kv%%=*}]="${kv#*=}"; done
    {
        echo "[options]"
        for key in $(printf '%s\n' "${!opts[@]}" | sort); do
            echo "$key = ${opts[$key]}"
        done
    } >"$file"
    chmod 600 "$file"
}

# The demo plant's addon: installed only by the demo (setup/run) and the CI shift, never in a bare database.
DEMO_ADDON=mfg_integration_demo

# Comma-separated list of the suite's addons, without the demo (override with MFG_ADDONS).
list_addons() {
    if [[ -n "${MFG_ADDONS:-}" ]]; then
        echo "$MFG_ADDONS"
        return 0
    fi
    local manifest name names=()
    for manifest in "$REPO"/addons/*/__manifest__.py; do
        name="$(basename "$(dirname "$manifest")")"
        [[ -f "$manifest" && "$name" != "$DEMO_ADDON" ]] && names+=("$name")
    done
    [[ ${#names[@]} -gt 0 ]] || die "no addon with a __manifest__.py under $REPO/addons"
    (IFS=,; echo "${names[*]}")
}

# odoo_install CONF DB MODE ADDONS LOGFILE: run `odoo -MODE ADDONS
# --stop-after-init` (MODE i or u) and fail loudly on a non-zero exit or on
# ERROR/CRITICAL lines in the log (returns 1).
odoo_install() {
    local conf="$1" db="$2" mode="$3" addons="$4" logfile="$5" rc=0 errors
    log "odoo -$mode $addons on database $db (log: $logfile)"
    run_odoo -c "$conf" -d "$db" "-$mode" "$addons" --stop-after-init --no-http \
        --log-level=warn --logfile="$logfile" || rc=$?
    errors="$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logfile" || true)"
    if [[ $rc -ne 0 || -n "$errors" ]]; then
        printf '%s\n' "----- install log (last 80 lines) -----" >&2
        tail -n 80 "$logfile" >&2
        [[ -z "$errors" ]] || printf -- '----- ERROR/CRITICAL lines -----\n%s\n' "$errors" >&2
        printf '\033[1;31m[mfg] ERROR:\033[0m %s\n' "installing/updating '$addons' on $db failed (exit status $rc)" >&2
        return 1
    fi
    grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ WARNING ' "$logfile" | sed 's/^/[mfg] install warning: /' >&2 || true
}

# Let database $1 deliver to receivers on this machine (127.0.0.1, ::1): the outbound address
# policy refuses loopback unless a Settings administrator lists it (tests, benchmarks, demos).
allow_loopback_delivery() {
    pg_psql -d "$1" -c "INSERT INTO ir_config_parameter (key, value, create_date, write_date)
        VALUES ('mfg_integration.outbound_allowed_networks', '127.0.0.0/8, ::1/128',
                now() at time zone 'UTC', now() at time zone 'UTC')
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value" >/dev/null
}

# --- MQTT broker (mfg_integration_mqtt) -----------------------------------------------------------
# Sets MOSQUITTO_BIN; installs Debian's mosquitto package if it is missing.
ensure_mosquitto() {
    MOSQUITTO_BIN="$(command -v mosquitto || true)"
    [[ -n "$MOSQUITTO_BIN" || ! -x /usr/sbin/mosquitto ]] || MOSQUITTO_BIN=/usr/sbin/mosquitto
    if [[ -z "$MOSQUITTO_BIN" ]]; then
        log "Mosquitto not found (the MQTT tests need a real broker): installing it with apt-get"
        [[ $EUID -eq 0 ]] || die "Mosquitto missing; install the 'mosquitto' package"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null \
            || die "apt-get install mosquitto failed"
        MOSQUITTO_BIN=/usr/sbin/mosquitto
        [[ -x "$MOSQUITTO_BIN" ]] || die "mosquitto still not found after apt-get install"
    fi
}

# start_mosquitto DIR: a throw-away Mosquitto on 127.0.0.1 and a free port, its configuration, persistence
# and log in DIR; exports MFG_MQTT_HOST, MFG_MQTT_PORT and MFG_MQTT_CONF (tests restart the broker with
# `mosquitto -c $MFG_MQTT_CONF -d` after stopping it). Stopped by stop_mosquitto DIR.
start_mosquitto() {
    local dir="$1" port tries=0
    [[ -n "${MOSQUITTO_BIN:-}" ]] || ensure_mosquitto
    mkdir -p "$dir"
    port="$(free_port)"
    # No limit on what the broker keeps for a disconnected persistent session (default: 1,000 messages).
    cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $dir/
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
max_queued_messages 0
# Acknowledgements sent at once: with Nagle's algorithm (Mosquitto's default) the PUBACKs of a batch published
# together wait for the client's delayed ACK (~40 ms per batch; README, MQTT).
set_tcp_nodelay true
CONF
    # Run as root, mosquitto drops to its own user: that user writes the persistence and the log.
    [[ $EUID -ne 0 ]] || chown mosquitto: "$dir" 2>/dev/null || true
    "$MOSQUITTO_BIN" -c "$dir/mosquitto.conf" -d || die "mosquitto did not start (see $dir/mosquitto.log)"
    until python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
        tries=$((tries + 1))
        [[ $tries -lt 50 ]] || die "mosquitto is not listening on 127.0.0.1:$port (see $dir/mosquitto.log)"
        sleep 0.2
    done
    export MFG_MQTT_HOST=127.0.0.1 MFG_MQTT_PORT="$port" MFG_MQTT_CONF="$dir/mosquitto.conf"
}

# stop_mosquitto DIR: stop the broker start_mosquitto started in DIR; silent if not running.
stop_mosquitto() {
    local pidfile="$1/mosquitto.pid"
    [[ -f "$pidfile" ]] || return 0
    kill "$(cat "$pidfile")" 2>/dev/null || true
}

# --- RabbitMQ (mfg_integration_amqp) ------------------------------------------------------------
# Globals set by start_rabbitmq: MFG_AMQP_URL (amqp://user:password@127.0.0.1:port/%2F) and
# MFG_RABBITMQ_ENV (a file of `export` lines that rabbitmqctl needs to reach this node: tests stop and
# start the broker with it).

# Installs Debian's rabbitmq-server when missing.
ensure_rabbitmq() {
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] && return 0
    log "RabbitMQ not found (AMQP tests need it): installing Debian's rabbitmq-server with apt-get"
    [[ $EUID -eq 0 ]] || die "RabbitMQ missing; install the 'rabbitmq-server' package"
    # policy-rc.d 101: the package must not start the system-wide broker; ours are throw-away.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    local rc=0
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null; } || rc=$?
    rm -f /usr/sbin/policy-rc.d
    [[ $rc -eq 0 ]] || die "apt-get install rabbitmq-server failed"
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || die "rabbitmq-server still not found after apt-get install"
}

# start_rabbitmq DIR: a throw-away RabbitMQ node with everything in DIR (data, logs, config, Erlang
# cookie), listening on 127.0.0.1 only on free AMQP, distribution and epmd ports, with a unique node
# name and one user (random password) owning the default vhost. Returns once it accepts AMQP logins.
start_rabbitmq() {
    local dir="$1" user=mfg password port dist_port epmd_port node
    ensure_rabbitmq
    mkdir -p "$dir/mnesia" "$dir/log"
    password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    port="$(free_port)"
    dist_port="$(free_port)"
    epmd_port="$(free_port)"
    node="mfg-$$-$RANDOM$RANDOM@localhost"  # unique; letters, digits and dashes only (a dot makes a long name)
    cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
default_user = $user
default_pass = $password
default_vhost = /
loopback_users = none
disk_free_limit.absolute = 50MB
log.console = false
log.file.level = warning
CONF
    echo "[]." >"$dir/enabled_plugins"
    : >"$dir/rabbitmq-env.conf"
    cat >"$dir/env" <<ENV
export HOME='$dir'
export RABBITMQ_NODENAME='$node'
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$port
export RABBITMQ_DIST_PORT=$dist_port
export ERL_EPMD_PORT=$epmd_port
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_CONFIG_FILE='$dir/rabbitmq.conf'
export RABBITMQ_CONF_ENV_FILE='$dir/rabbitmq-env.conf'
export RABBITMQ_ENABLED_PLUGINS_FILE='$dir/enabled_plugins'
export RABBITMQ_MNESIA_BASE='$dir/mnesia'
export RABBITMQ_LOG_BASE='$dir/log'
export RABBITMQ_PID_FILE='$dir/rabbitmq.pid'
export PATH="/usr/lib/rabbitmq/bin:\$PATH"
ENV
    chmod 600 "$dir/env" "$dir/rabbitmq.conf"
    (
        # shellcheck source=/dev/null
        source "$dir/env"
        cd "$dir"
        rabbitmq-server >"$dir/log/server.out" 2>&1 &
    )
    MFG_AMQP_URL="amqp://$user:$password@127.0.0.1:$port/%2F"
    MFG_RABBITMQ_ENV="$dir/env"
    if ! _amqp_wait "$MFG_AMQP_URL" 120; then
        tail -n 30 "$dir/log/server.out" >&2
        die "RabbitMQ did not start"
    fi
}

_amqp_wait() {
    python3 - "$1" "$2" <<'PY'
import sys, time
import pika
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        pika.BlockingConnection(pika.URLParameters(sys.argv[1])).close()
        sys.exit(0)
    except pika.exceptions.AMQPError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.5)
PY
}

# stop_rabbitmq DIR: stops the node and its epmd; silent if not running.
stop_rabbitmq() {
    local dir="$1"
    [[ -f "$dir/env" ]] || return 0
    (
        # shellcheck source=/dev/null
        source "$dir/env"
        rabbitmqctl -q shutdown >/dev/null 2>&1 || true
        epmd -kill >/dev/null 2>&1 || true
    )
}
