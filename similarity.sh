#!/usr/bin/env bash
# Similarity's one entry point: provisions what is missing, then runs, tests or benchmarks the service.
# Every step is idempotent: a second run finds everything in place and does nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

PG_BIN=/usr/lib/postgresql/15/bin
PGVECTOR_VERSION=0.8.6
PGVECTOR_DEBIAN_VERSION=0.8.6-1
# SHA-256 of Debian's pgvector_0.8.6-1.dsc; dpkg-source -x then checks the tarballs against the .dsc.
PGVECTOR_DSC_SHA256=d08de2aa48b7cb70319cc896aa3d95514690d1009f96579dbe6b23c59634f4e6
APT_PACKAGES=(libicu72 postgresql-15 postgresql-server-dev-15 build-essential dpkg-dev curl python3-onnx python3-numpy)
# Training, the trained set's tests and the quality benchmark: Debian's PyTorch (with OpenBLAS, else its BLAS is the
# ~25x slower reference one), Pillow, and the openclipart drawings (PNG) with their metadata (SVG); psycopg2 for
# `models tune`, which reads the logged pairs from the database.
TRAINING_PACKAGES=(python3-torch python3-torchvision libopenblas0-pthread python3-pil openclipart-png openclipart-svg python3-psycopg2)

# Per-checkout state. The checkout keeps the git-ignored .data/ (admin key, logs, spool); PostgreSQL's own
# data lives where the postgres user can reach it even when the clone sits under an unreadable /root.
CHECKOUT_ID=$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
DATA_DIR="$ROOT/.data"
PG_DIR=${SIMILARITY_PG_DIR:-/var/lib/similarity/$CHECKOUT_ID}
# The port is chosen once, at initdb, and remembered beside the data.
PG_PORT=${SIMILARITY_PG_PORT:-$(cat "$PG_DIR/port" 2>/dev/null || echo $((55000 + 0x${CHECKOUT_ID:0:4} % 900)))}
PG_DATA="$PG_DIR/data"
PG_SOCKET="$PG_DIR/socket"
PG_PASSWORD_FILE="$PG_DIR/password"

log() { printf '\033[1;34m[similarity]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[similarity]\033[0m %s\n' "$*" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ensure_apt_packages() {
  local missing=() extra=("$@")
  for p in "${APT_PACKAGES[@]}" "${extra[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); run as root or install them"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian mirror this machine already uses, read from its apt configuration (never written in the repo).
debian_mirror() {
  local uri
  uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' \
    | awk '{print $1}' | grep -v -- '-security' | grep -E '^https?://' | head -n1)
  [ -n "$uri" ] || die "no Debian mirror found in the apt configuration"
  printf '%s' "${uri%/}"
}

pgvector_installed_version() {
  local control
  control=$("$PG_BIN/pg_config" --sharedir)/extension/vector.control
  [ -f "$control" ] && sed -nE "s/^default_version = '([^']+)'/\1/p" "$control" || true
}

# pgvector is not packaged for bookworm: build Debian's own source package against postgresql-server-dev-15.
ensure_pgvector() {
  local have
  have=$(pgvector_installed_version)
  if [ -n "$have" ] && dpkg --compare-versions "$have" ge 0.8.2; then return 0; fi
  log "building pgvector $PGVECTOR_VERSION from Debian's source package (have: ${have:-none})"
  local mirror work
  mirror=$(debian_mirror)
  work=$(mktemp -d)
  (
    cd "$work"
    local dsc="pgvector_${PGVECTOR_DEBIAN_VERSION}.dsc" pool="$mirror/pool/main/p/pgvector"
    curl -fsSLO "$pool/$dsc"
    echo "$PGVECTOR_DSC_SHA256  $dsc" | sha256sum -c --quiet -
    # The .dsc is pinned by hash; its Checksums-Sha256 block then pins every tarball.
    awk '/^Checksums-Sha256:/{f=1;next} /^[^ ]/{f=0} f{print $1"  "$3}' "$dsc" >tarballs.sha256
    while read -r _ f; do curl -fsSLO "$pool/$f"; done <tarballs.sha256
    sha256sum -c --quiet tarballs.sha256
    dpkg-source -x "$dsc" src >/dev/null 2>&1
    cd src
    make -s PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >/dev/null
    make -s PG_CONFIG="$PG_BIN/pg_config" install >/dev/null
  )
  rm -rf "$work"
  log "pgvector $(pgvector_installed_version) installed"
}

pg_password() { cat "$PG_PASSWORD_FILE"; }

psql_admin() { as_postgres "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d "${2:-postgres}" -tAc "$1"; }

db_running() { [ -f "$PG_DATA/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

db_init() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  mkdir -p "$PG_DIR" "$PG_SOCKET"
  # Another checkout's cluster (or anything else) may hold this port: take the next free one.
  while (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; do PG_PORT=$((PG_PORT + 1)); done
  echo "$PG_PORT" >"$PG_DIR/port"
  log "creating the project's PostgreSQL cluster in $PG_DIR (port $PG_PORT)"
  [ -f "$PG_PASSWORD_FILE" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_PASSWORD_FILE"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$PG_PASSWORD_FILE" \
    --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PG_DATA/postgresql.conf" <<CONF
# Similarity's private cluster: loopback only, its own port and socket.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET'
max_connections = 200
shared_buffers = 512MB
maintenance_work_mem = 512MB
fsync = on
CONF
}

db_start() {
  [ -n "${ConnectionStrings__Similarity:-}" ] && { log "ConnectionStrings__Similarity is set: using that database"; return 0; }
  # The formation when `db ha start` made it (.data/ha/up); its keepers are restarted if they stopped.
  if [ -f "$HA_STATE/up" ]; then
    ha_formation_healthy || ha_start >/dev/null
    export ConnectionStrings__Similarity
    ConnectionStrings__Similarity=$(ha_connection_string)
    log "using the pg_auto_failover formation (./similarity.sh db ha stop returns to the single cluster)"
    return 0
  fi
  ensure_apt_packages
  ensure_pgvector
  db_init
  if ! db_running; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgresql.log" -w -t 60 start >/dev/null
  fi
  # Running is not ready: after a crash the server replays and syncs its data first (minutes for a large catalog),
  # refusing connections meanwhile, and another command of this script may have just started it.
  local waited=0
  until as_postgres "$PG_BIN/pg_isready" -q -h "$PG_SOCKET" -p "$PG_PORT"; do
    ((waited++ < 600)) || die "PostgreSQL on port $PG_PORT is not accepting connections after 10 minutes (see $PG_DIR/postgresql.log)"
    sleep 1
  done
  export ConnectionStrings__Similarity="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=similarity"
  psql_admin "SELECT 1 FROM pg_database WHERE datname = 'similarity'" | grep -q 1 || psql_admin "CREATE DATABASE similarity" >/dev/null
}

db_stop() { if db_running; then as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; log "stopped"; fi; }

db_status() {
  if db_running; then echo "running: 127.0.0.1:$PG_PORT, data in $PG_DATA, pgvector $(pgvector_installed_version)"
  else echo "stopped (data in $PG_DATA)"; fi
}

# --- A pg_auto_failover formation for this checkout (db ha): a monitor, a primary and two standbys on loopback.
# Each node is a PostgreSQL 15 with pgvector (the same binaries as the single cluster); pg_auto_failover sets up
# synchronous replication (number_sync_standbys 1) and promotes a standby when the primary fails. Every node's
# `pg_autoctl run` is a background process (its own session) with its log in .data/ha/; .data/ha/up says the
# formation is meant to be running, and `run`/`test` then use its multi-host connection string.
HA_PACKAGES=(postgresql-15-auto-failover pg-auto-failover-cli)
HA_DIR="$PG_DIR/ha"
HA_STATE="$DATA_DIR/ha"
HA_NODES=(monitor node1 node2 node3)
# Four consecutive ports from the checkout, like the single cluster's; chosen once and remembered beside the data.
HA_PORT=$(cat "$HA_DIR/port" 2>/dev/null || echo $((56000 + (0x${CHECKOUT_ID:0:4} % 225) * 4)))

# Failure detection for loopback. pg_auto_failover's defaults are made for networks: a dead primary is noticed after
# 20 s and its standby promoted after another 30 s (primary_demote_timeout), over the 35 s a shop can go without
# writes. A keeper cut off from the monitor and its standbys demotes its primary after network_partition_timeout,
# kept below the monitor's demote timeout so that two primaries never take writes at once.
HA_MONITOR_SETTINGS=(
  pgautofailover.health_check_period=1000 pgautofailover.health_check_timeout=2000
  pgautofailover.health_check_max_retries=2 pgautofailover.health_check_retry_delay=500
  pgautofailover.node_considered_unhealthy_timeout=6000 pgautofailover.primary_demote_timeout=12000
)
HA_NETWORK_PARTITION_TIMEOUT=8
# Each node's WAL writer every 10 ms (200 ms by default): the primary's flushed position may end inside a record that
# spans pages, which no standby can replay until the rest is flushed; a read waiting for a write's position (read-your-
# writes, bounded at 90 ms) then waited out its bound for 13% of `bench ha`'s read-backs, 2% with 10 ms.
HA_NODE_SETTINGS=(wal_writer_delay=10ms)

ha_port() { case $1 in monitor) echo "$HA_PORT" ;; node1) echo $((HA_PORT + 1)) ;; node2) echo $((HA_PORT + 2)) ;; node3) echo $((HA_PORT + 3)) ;; esac; }

# pg_autoctl as the postgres user, its configuration, state and pid files kept under this checkout's HA folder, the
# password for every loopback connection (the node roles and the service's) read from a pgpass file of its own.
autoctl() {
  as_postgres env XDG_CONFIG_HOME="$HA_DIR/config" XDG_DATA_HOME="$HA_DIR/share" XDG_RUNTIME_DIR="$HA_DIR/run" \
    PGPASSFILE="$HA_DIR/pgpass" pg_autoctl "$@"
}

ha_psql() { as_postgres "$PG_BIN/psql" -h /var/run/postgresql -p "$(ha_port "$1")" -U postgres -d "${3:-postgres}" -v ON_ERROR_STOP=1 -qtAc "$2"; }

ha_keeper_alive() { [ -f "$HA_STATE/$1.pid" ] && kill -0 "$(cat "$HA_STATE/$1.pid")" 2>/dev/null; }

ha_monitor_uri() { echo "postgres://autoctl_node@127.0.0.1:$(ha_port monitor)/pg_auto_failover?sslmode=disable"; }

# Starts a node's pg_autoctl in its own session (so that a fault test can kill the node's whole process group).
ha_launch() {
  local node=$1
  shift
  ha_keeper_alive "$node" && return 0
  setsid env XDG_CONFIG_HOME="$HA_DIR/config" XDG_DATA_HOME="$HA_DIR/share" XDG_RUNTIME_DIR="$HA_DIR/run" \
    PGPASSFILE="$HA_DIR/pgpass" runuser -u postgres -- pg_autoctl "$@" \
    >>"$HA_STATE/$node.log" 2>&1 </dev/null &
  echo $! >"$HA_STATE/$node.pid"
}

# Waits (polling, up to $2 seconds) until the command in the remaining arguments succeeds.
ha_wait() {
  local what=$1 limit=$2 waited=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    sleep 1; waited=$((waited + 1))
    ((waited < limit)) || die "the formation: $what not reached after ${limit} s (logs in .data/ha/)"
  done
}

ha_node_state() { autoctl show state --pgdata "$HA_DIR/monitor" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["nodename"] == sys.argv[1]:
        print(n["current_group_state"] + "/" + n["assigned_group_state"])' "$1"; }

ha_node_is() { local s; s=$(ha_node_state "$1"); [[ " ${*:2} " == *" ${s%%/*} "* && "${s%%/*}" == "${s##*/}" ]]; }

ha_create_monitor() {
  [ -f "$HA_DIR/monitor/PG_VERSION" ] && return 0
  log "creating the formation's monitor (127.0.0.1:$(ha_port monitor))"
  autoctl create monitor --pgdata "$HA_DIR/monitor" --pgport "$(ha_port monitor)" --pgctl "$PG_BIN/pg_ctl" \
    --hostname 127.0.0.1 --listen 127.0.0.1 --auth scram-sha-256 --no-ssl >>"$HA_STATE/monitor.log" 2>&1 \
    || { tail -20 "$HA_STATE/monitor.log" >&2; die "pg_autoctl create monitor failed"; }
}

# Creates a node (pg_autoctl create postgres --run) or, when it exists, runs its keeper again if it stopped;
# HA_CREATED says which.
ha_create_node() {
  local node=$1
  HA_CREATED=""
  if [ -f "$HA_DIR/config/pg_autoctl$HA_DIR/$node/pg_autoctl.cfg" ]; then
    ha_launch "$node" run --pgdata "$HA_DIR/$node"
    return 0
  fi
  log "creating $node (127.0.0.1:$(ha_port "$node"))"
  HA_CREATED=1
  ha_launch "$node" create postgres --pgdata "$HA_DIR/$node" --pgport "$(ha_port "$node")" --pgctl "$PG_BIN/pg_ctl" \
    --name "$node" --hostname 127.0.0.1 --listen 127.0.0.1 --dbname similarity --auth scram-sha-256 --no-ssl \
    --monitor "$(ha_monitor_uri)" --run
}

# The roles pg_auto_failover connects with get the cluster's password: set once on the first primary (standbys
# replicate them); every node's keeper writes it into the standby's primary_conninfo after a failover.
ha_set_node_passwords() {
  local pw
  pw=$(pg_password)
  ha_psql node1 "ALTER ROLE postgres PASSWORD '$pw'; ALTER ROLE pgautofailover_replicator PASSWORD '$pw'; ALTER ROLE pgautofailover_monitor PASSWORD '$pw'"
}

ha_set_monitor_timing() {
  local setting
  for setting in "${HA_MONITOR_SETTINGS[@]}"; do
    ha_psql monitor "ALTER SYSTEM SET ${setting%%=*} = '${setting#*=}'" pg_auto_failover
  done
  ha_psql monitor "SELECT pg_reload_conf()" pg_auto_failover >/dev/null
}

# Written to the node's configuration; a running keeper reloads it (pg_autoctl config set signals it). The node's own
# PostgreSQL settings by ALTER SYSTEM (each node keeps its own postgresql.auto.conf).
ha_set_node_timing() {
  autoctl config set --pgdata "$HA_DIR/$1" timeout.network_partition_timeout "$HA_NETWORK_PARTITION_TIMEOUT" >/dev/null
  local setting
  for setting in "${HA_NODE_SETTINGS[@]}"; do
    ha_psql "$1" "ALTER SYSTEM SET ${setting%%=*} = '${setting#*=}'"
  done
  ha_psql "$1" "SELECT pg_reload_conf()" >/dev/null
}

ha_prepare() {
  ensure_apt_packages "${HA_PACKAGES[@]}"
  ensure_pgvector
  mkdir -p "$HA_DIR"/{config,share,run} "$HA_STATE"
  [ -f "$PG_PASSWORD_FILE" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_PASSWORD_FILE")
  if [ ! -f "$HA_DIR/port" ]; then
    # Another checkout (or anything else) may hold one of the four ports: move to the next free four.
    local p
    while :; do
      for p in 0 1 2 3; do (exec 3<>"/dev/tcp/127.0.0.1/$((HA_PORT + p))") 2>/dev/null && break; done
      (exec 3<>"/dev/tcp/127.0.0.1/$((HA_PORT + p))") 2>/dev/null || break
      HA_PORT=$((HA_PORT + 4))
    done
    echo "$HA_PORT" >"$HA_DIR/port"
  fi
  (umask 077 && printf '127.0.0.1:*:*:*:%s\n' "$(pg_password)" >"$HA_DIR/pgpass")
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR" "$HA_DIR"
}

# Host Recheck Seconds 1 (Npgsql's default 10): a host Npgsql saw down or as a standby is asked again a second later,
# so writes find the promoted standby about when pg_auto_failover has promoted it.
ha_connection_string() {
  echo "Host=127.0.0.1:$(ha_port node1),127.0.0.1:$(ha_port node2),127.0.0.1:$(ha_port node3);Username=postgres;Password=$(pg_password);Database=similarity;Target Session Attributes=primary;Host Recheck Seconds=1"
}

ha_start() {
  ha_prepare
  ha_create_monitor
  ha_launch monitor run --pgdata "$HA_DIR/monitor"
  ha_wait "the monitor accepting connections" 60 ha_psql monitor "SELECT 1" pg_auto_failover
  ha_psql monitor "ALTER ROLE autoctl_node PASSWORD '$(pg_password)'" pg_auto_failover
  ha_set_monitor_timing
  ha_create_node node1
  if [ -n "$HA_CREATED" ]; then
    ha_wait "node1 as the first primary" 180 ha_node_is node1 single primary wait_primary
    ha_set_node_passwords
  fi
  # A standby's replication (pg_basebackup, then streaming, pg_rewind after a failover) finds the password in the
  # keepers' pgpass file; setting pg_autoctl's replication.password instead restarts a running standby's PostgreSQL,
  # which a keeper busy with a new node's HBA rules once never started again (the formation stuck in wait_primary).
  for node in node2 node3; do
    # pg_basebackup waits for a checkpoint spread over minutes (~0.1 s per dirty buffer): a fast one first.
    ha_psql node1 "CHECKPOINT" >/dev/null 2>&1 || true
    ha_create_node "$node"
    [ -z "$HA_CREATED" ] || ha_wait "$node as a standby" 300 ha_node_is "$node" secondary primary
  done
  ha_wait "a primary with its standbys" 120 ha_formation_healthy
  # A keeper rewriting its file at that moment makes config set fail to read it: tried again.
  for node in node1 node2 node3; do ha_wait "$node's timeouts set" 20 ha_set_node_timing "$node"; done
  touch "$HA_STATE/up"
  ha_connection_string >"$HA_STATE/connection-string"
  ha_write_nodes
  log "formation up: monitor 127.0.0.1:$(ha_port monitor), nodes on ports $(ha_port node1), $(ha_port node2), $(ha_port node3)"
  ha_connection_string_shown
}

# The connection string as printed: the password stays in its file (the whole string is in .data/ha/connection-string).
ha_connection_string_shown() {
  ha_connection_string | sed -E "s#Password=[^;]*#Password=<in $PG_PASSWORD_FILE>#"
}

# One primary and two secondaries, each in the state the monitor assigned.
ha_formation_healthy() {
  autoctl show state --pgdata "$HA_DIR/monitor" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
nodes = json.load(sys.stdin)
ok = [n for n in nodes if n["current_group_state"] == n["assigned_group_state"]]
roles = sorted(n["current_group_state"] for n in ok)
sys.exit(0 if roles == ["primary", "secondary", "secondary"] else 1)'
}

# .data/ha/nodes: one line per node (name, port, data folder, pg_autoctl pid) for the test fixture and the benchmark.
ha_write_nodes() {
  local node
  for node in "${HA_NODES[@]}"; do
    printf '%s %s %s %s\n' "$node" "$(ha_port "$node")" "$HA_DIR/$node" "$(cat "$HA_STATE/$node.pid" 2>/dev/null || echo 0)"
  done >"$HA_STATE/nodes"
}

ha_status() {
  [ -f "$HA_DIR/monitor/PG_VERSION" ] || { echo "no formation (./similarity.sh db ha start)"; return 0; }
  autoctl show state --pgdata "$HA_DIR/monitor"
  local node
  for node in "${HA_NODES[@]}"; do
    if ha_keeper_alive "$node"; then echo "$node: pg_autoctl running (pid $(cat "$HA_STATE/$node.pid"))"
    else echo "$node: pg_autoctl stopped"; fi
  done
  [ -f "$HA_STATE/up" ] && echo "connection string: $(ha_connection_string_shown)"
}

# A planned switchover (pg_autoctl perform switchover), waited for until the formation is settled again. Its write
# unavailability as a client sees it is `bench ha`'s to measure (Similarity.Bench, through the service).
ha_failover() {
  [ -f "$HA_STATE/up" ] || die "the formation is not up (./similarity.sh db ha start)"
  local before after
  before=$(ha_primary)
  autoctl perform switchover --pgdata "$HA_DIR/monitor" >>"$HA_STATE/switchover.log" 2>&1 \
    || { tail -20 "$HA_STATE/switchover.log" >&2; die "pg_autoctl perform switchover failed"; }
  ha_wait "a primary with its standbys" 120 ha_formation_healthy
  after=$(ha_primary)
  echo "switchover: primary $before -> $after"
}

ha_primary() { autoctl show state --pgdata "$HA_DIR/monitor" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
print(next((n["nodename"] for n in json.load(sys.stdin) if n["current_group_state"] == "primary" and n["assigned_group_state"] == "primary"), ""))'; }

ha_stop() {
  rm -f "$HA_STATE/up"
  local node pid
  for node in node3 node2 node1 monitor; do
    ha_keeper_alive "$node" || continue
    pid=$(cat "$HA_STATE/$node.pid")
    # pg_autoctl stops its Postgres on SIGTERM (a fast shutdown); wait for the whole session to end.
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null && ((waited < 60)); do sleep 1; waited=$((waited + 1)); done
    kill -0 "$pid" 2>/dev/null && die "$node's pg_autoctl (pid $pid) did not stop in 60 s"
    rm -f "$HA_STATE/$node.pid"
  done
  for node in "${HA_NODES[@]}"; do
    [ -f "$HA_DIR/$node/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$HA_DIR/$node" -m fast -w stop >/dev/null 2>&1 || true
  done
  log "formation stopped (data kept in $HA_DIR)"
}

# Stopped and its data deleted: for a formation whose nodes no longer agree (e.g. a standby on a timeline the new
# primary never had after whole nodes were killed), which pg_auto_failover cannot mend by itself.
ha_reset() {
  ha_stop
  rm -rf "${HA_DIR:?}" "${HA_STATE:?}"
  log "formation deleted; ./similarity.sh db ha start makes a new one"
}

# Seeded tiny models (tests) or full-size ones (benchmarks), with the numpy reference's golden vectors beside them.
ensure_models() {
  local size=${1:-tiny}
  ensure_apt_packages
  /usr/bin/python3 models/generate.py --size "$size" --out "models/$size" --quiet
  [ "$size" != tiny ] || [ models/tiny/golden.json -nt models/tiny/manifest.json ] || /usr/bin/python3 models/reference.py models/tiny
}

# Runs a model-making command into models/NAME unless the sources it depends on are unchanged since it last did.
make_model_set() {
  local name=$1 sources=$2
  shift 2
  local stamp
  stamp=$(cat $sources | sha256sum | cut -c1-16)
  [ "$(cat "models/$name/.made" 2>/dev/null)" = "$stamp" ] && [ -f "models/$name/golden.json" ] && return 0
  rm -rf "models/$name"
  "$@" >"$DATA_DIR/$name.log" 2>&1 || { cat "$DATA_DIR/$name.log" >&2; die "making models/$name failed"; }
  echo "$stamp" >"models/$name/.made"
}

# What the tests need beyond the tiny set: a few training steps on a handful of drawings (the training code's CI
# test), and torchvision's ResNet-50 (weights=None) through the real-export script.
ensure_test_model_sets() {
  ensure_apt_packages "${TRAINING_PACKAGES[@]}"
  mkdir -p "$DATA_DIR"
  make_model_set smoke "models/train/data.py models/train/export.py models/train/metrics.py models/train/model.py models/train/text.py models/train/train.py models/reference.py models/generate.py" \
    /usr/bin/python3 models/train/train.py --smoke --epochs 30 --out models/smoke
  make_model_set resnet50-untrained "models/export_real.py models/reference.py models/generate.py models/tiny/manifest.json" \
    /usr/bin/python3 models/export_real.py --out models/resnet50-untrained --image-weights none --text-from models/tiny --golden
}

# An INT8 set from an FP32 one (models/quantize.py: calibration through the service's ONNX Runtime, then the rewrite).
quantize_models() {
  ensure_apt_packages openclipart-png
  build_quietly src/Similarity.Bench
  /usr/bin/python3 models/quantize.py make "$@"
}

# Retrains the default set from scratch (seeded) and prints the test split's figures.
cmd_models_train() {
  ensure_apt_packages "${TRAINING_PACKAGES[@]}"
  local out=${1:-models/clipart} started=$SECONDS
  /usr/bin/python3 models/train/train.py --out "$out"
  log "trained in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s: $out"
}

# Retrains only the live set's attention fusion on the logged engagements (softmax by default) and writes a model
# bundle with its training report (models/train/tune.py --help); --deploy URL KEY takes it through PUT /models/NAME,
# embed and diff. The database: ConnectionStrings__Similarity when set, else the private cluster.
cmd_models_tune() {
  ensure_apt_packages "${TRAINING_PACKAGES[@]}"
  db_start
  /usr/bin/python3 models/train/tune.py "$@"
}

# Uploads a model set's folder to a running service as the candidate (PUT /models/NAME): the CLI's models deploy.
# The key: Similarity__AdminApiKey when set, else the key file `run` wrote; the address: --url, else SIMILARITY_URL.
cmd_models_deploy() {
  build_quietly src/Similarity.Cli
  dotnet src/Similarity.Cli/bin/Release/net10.0/similarity-import.dll models deploy --key-file "$DATA_DIR/admin-api-key" "$@"
}

# The admin key: Similarity__AdminApiKey when set, else the one generated once into .data/admin-api-key. The file
# is created 600 from the start (umask in a subshell, never briefly world-readable) and the key is printed
# only the time it is generated; afterwards it is read from the file.
admin_key() {
  if [ -n "${Similarity__AdminApiKey:-}" ]; then printf '%s' "$Similarity__AdminApiKey"; return; fi
  mkdir -p "$DATA_DIR"
  if [ ! -s "$DATA_DIR/admin-api-key" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$DATA_DIR/admin-api-key")
    log "generated the admin key (X-Api-Key) into .data/admin-api-key: $(cat "$DATA_DIR/admin-api-key")"
  fi
  cat "$DATA_DIR/admin-api-key"
}

# What `run` and `demo` serve with: the private cluster, the address, the admin key, the trained models, the spool.
service_settings() {
  db_start
  export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:8080}
  export Similarity__AdminApiKey
  Similarity__AdminApiKey=$(admin_key)
  # The trained set committed in models/clipart (see models/README.md) unless another manifest is named.
  export Similarity__Models__Manifest=${Similarity__Models__Manifest:-$ROOT/models/clipart/manifest.json}
  export Similarity__Imports__SpoolPath=${Similarity__Imports__SpoolPath:-$DATA_DIR/imports}
  export Similarity__Models__StorePath=${Similarity__Models__StorePath:-$DATA_DIR/model-sets}
  dotnet build src/Similarity.Api -c Release -nologo -v q
}

cmd_run() {
  service_settings
  log "API on $ASPNETCORE_URLS — pages at ${ASPNETCORE_URLS%%;*}/, Swagger UI at ${ASPNETCORE_URLS%%;*}/swagger"
  log "writes need the admin key in X-Api-Key (.data/admin-api-key, or Similarity__AdminApiKey when set)"
  log "more keys, admin or storefront (each with its own rate limit): POST /keys with that key (README: Keys and roles)"
  # exec the service itself (not `dotnet run`, which starts it as a child): a signal to this script is a signal to the API.
  cd src/Similarity.Api/bin/Release/net10.0
  exec dotnet Similarity.Api.dll
}

# The product in a minute: the service with 3 000 openclipart drawings as its catalog, imported through the API.
# A second run finds the catalog imported (the same upload is the same job) and only starts the service.
cmd_demo() {
  ensure_apt_packages openclipart-png openclipart-svg
  service_settings
  dotnet build src/Similarity.Cli -c Release -nologo -v q
  local demo="$DATA_DIR/demo" url=${ASPNETCORE_URLS%%;*} log_file="$DATA_DIR/demo-api.log"
  [ -s "$demo/pictures.zip" ] || /usr/bin/python3 models/train/demo_catalog.py "$demo"
  (cd src/Similarity.Api/bin/Release/net10.0 && exec dotnet Similarity.Api.dll) >"$log_file" 2>&1 &
  local api=$!
  trap 'kill $api 2>/dev/null; wait $api 2>/dev/null' EXIT
  trap 'exit 130' INT TERM
  log "starting the service (its log: .data/demo-api.log)"
  local waited=0
  until curl -fsS "$url/health/ready" >/dev/null 2>&1; do
    kill -0 $api 2>/dev/null || { tail -20 "$log_file" >&2; die "the service stopped"; }
    sleep 1; waited=$((waited + 1))
    ((waited < 300)) || die "the service was not ready after 5 minutes"
  done
  dotnet src/Similarity.Cli/bin/Release/net10.0/similarity-import.dll --key-file "$DATA_DIR/admin-api-key" \
    --images "$demo/pictures.zip" "$demo/catalog.csv" || die "the demo import failed"
  log "open $url/ to browse the drawings by picture (imports: $url/imports.html, key in .data/admin-api-key); Ctrl-C stops"
  wait $api
}

cmd_test() {
  db_start
  ensure_models
  # The browser tests drive Debian's Chromium through Playwright (which cannot download browsers here); the import
  # tests read openclipart's drawings.
  ensure_apt_packages chromium openclipart-png
  ensure_lint_tools
  ensure_client_tools
  ensure_test_model_sets
  export Similarity__Models__Manifest=${Similarity__Models__Manifest:-$ROOT/models/tiny/manifest.json}
  local results="$DATA_DIR/test-results"
  rm -rf "$results"
  # Screenshots and other artefacts the tests write for a person to look at.
  export SIMILARITY_TEST_ARTIFACTS="$results/artifacts"
  dotnet build Similarity.sln -c Release -nologo -v q
  local rc=0
  dotnet test Similarity.sln -c Release --no-build --nologo --logger "trx" --results-directory "$results" "$@" || rc=$?
  /usr/bin/python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    p += int(c.get("passed")); f += int(c.get("failed")) + int(c.get("error")); s += int(c.get("notExecuted"))
print(f"{p} passed, {f} failed, {s} skipped")
PY
  return $rc
}


# Uploads a catalog to a running service and follows the job with a live progress bar.
# The key comes from --key, SIMILARITY_ADMIN_API_KEY, Similarity__AdminApiKey or the key file `run` wrote; the CLI
# never makes one up. Its exit codes are in its --help and the README.
cmd_import() {
  build_quietly src/Similarity.Cli
  exec dotnet src/Similarity.Cli/bin/Release/net10.0/similarity-import.dll --key-file "$DATA_DIR/admin-api-key" "$@"
}

# Each benchmark is Similarity.Bench's (C#): it starts the services it measures, makes its databases in the private
# cluster and prints its markdown table. The script provisions what it needs: packages, the cluster, the models.
cmd_bench() {
  local what=${1:-}
  shift || true
  case "$what" in
    encoders) ensure_models full
      if [ "${1:-}" = --compare ] && [ "${3:-}" = models/full-int8 ]; then quantize_models models/full models/full-int8 --if-changed; fi ;;
    images) ;;
    similar|search|models) db_start; ensure_models; ensure_models full ;;
    import) db_start; ensure_models; ensure_models full ;;
    upload|isolation|events) db_start; ensure_models ;;
    pages) db_start; ensure_apt_packages chromium ;;
    # The formation (started if it is not up; run and test then use it too until `db ha stop`).
    ha) [ -f "$HA_STATE/up" ] || ha_start >/dev/null; db_start; ensure_models ;;
    quality) ensure_apt_packages "${TRAINING_PACKAGES[@]}"; db_start ;;
    feedback) ensure_apt_packages "${TRAINING_PACKAGES[@]}"; db_start ;;
    insight) ensure_apt_packages "${TRAINING_PACKAGES[@]}"; db_start; ensure_models full ;;
    *) die "usage: ./similarity.sh bench encoders|images|similar|search|import|upload|quality|insight|isolation|pages|models|events|feedback|ha [--seconds N] [--items N] [--rows N]" ;;
  esac
  ensure_apt_packages openclipart-png
  run_bench "$what" "$@"
}

# Similarity.Bench built (with the service it references) and run from the checkout's root.
run_bench() {
  build_quietly src/Similarity.Bench
  mkdir -p "$DATA_DIR"
  dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll "$@"
}

# A build that prints nothing unless it fails.
build_quietly() {
  local out
  out=$(dotnet build "$1" -c Release -nologo -v q 2>&1) || { printf '%s\n' "$out" >&2; die "building $1 failed"; }
}

# Spectral, its rulesets and axe-core, pinned by tests/lint/package-lock.json; installed once per checkout.
ensure_lint_tools() {
  [ tests/lint/node_modules/.package-lock.json -nt tests/lint/package-lock.json ] && return 0
  log "installing Spectral and axe-core (tests/lint/package-lock.json)"
  npm ci --prefix tests/lint --no-audit --no-fund --loglevel=error >/dev/null
}

# What the generated-client tests run, pinned: openapi-typescript, openapi-fetch and TypeScript
# (tests/clients/package-lock.json) and Kiota (.config/dotnet-tools.json); installed once per checkout, offline after.
ensure_client_tools() {
  [ tests/clients/node_modules/.package-lock.json -nt tests/clients/package-lock.json ] ||
    { log "installing openapi-typescript, openapi-fetch and TypeScript (tests/clients/package-lock.json)"
      npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >/dev/null; }
  dotnet tool restore >/dev/null || die "dotnet tool restore (Kiota, .config/dotnet-tools.json) failed"
}

# The live OpenAPI document of a freshly started service (tiny models), linted by Spectral (spectral:oas + OWASP); exits non-zero
# on any error. The rules the project does not follow are listed with their reasons in tests/lint/.spectral.yaml.
cmd_lint() {
  ensure_lint_tools
  db_start
  ensure_models
  local document="$DATA_DIR/openapi.json"
  run_bench openapi --out "$document"
  tests/lint/node_modules/.bin/spectral lint "$document" --ruleset tests/lint/.spectral.yaml --fail-severity error
}

# The images and the compose stack: docker/build.sh and docker/smoke.sh, after the packages and pgvector they use.
cmd_docker() {
  local what=${1:-} mirror=""
  case "$what" in
    build) ensure_apt_packages docker.io docker-compose debootstrap; ensure_pgvector; mirror=$(debian_mirror) ;;
    smoke) ensure_apt_packages docker.io docker-compose openclipart-png ;;
    *) die "usage: ./similarity.sh docker build|smoke" ;;
  esac
  DATA_DIR=$DATA_DIR PG_BIN=$PG_BIN DEBIAN_MIRROR=$mirror "docker/$what.sh"
}

usage() {
  cat <<USAGE
usage: ./similarity.sh COMMAND
  run                 provision what is missing, then serve the API (default http://127.0.0.1:8080, Swagger at /swagger)
  demo                run with 3 000 openclipart drawings imported as its catalog (a second run reuses them); prints the pages' address
  test [ARGS]         provision what is missing, then run every test (ARGS go to dotnet test, e.g. --filter)
  lint                the live OpenAPI document through Spectral (spectral:oas + OWASP ruleset); non-zero on any error
  bench encoders      full-size models: pipeline items/s vs the bare ONNX session, batch 1 and 32
  bench encoders --compare FP32_DIR INT8_DIR   both sets' items/s at batch 1, 8, 32 and their vectors' cosine (--seconds S, --items N)
  bench images        decode+resize: NetVips vs SkiaSharp (BenchmarkDotNet)
  bench similar       /similar under load on a seeded catalog (--items N, default 100000; --warmup S, --rounds N, --seconds S, --stream S; --served-log off: no served list recorded): both paths vs plain pgvector, recall@10
  bench events        POST /events: 1 000-event batches on --connections C (default 4) for --seconds S: p95 per batch, events/s
  bench search        GET /search under load on the same seeded catalog (--items N, --warmup S, --rounds N, --seconds S): hybrid vs vector-only throughput, p99 at half peak
  bench import        catalog import end to end vs the bare encoders (--items N, default 5000; --set full-int8 for the INT8 twin); memory at N and 10×N rows;
                      --source url: the same catalog with pictures by URL from a local server vs in a zip (--items N, default 2000)
  bench upload        seconds to POST /imports' 202 for 1 row and --rows N (default 5000000) vs the transfer alone; the job's checks after
  bench isolation     /similar p99 alone and under an /embed flood (JPEGs and 16-bit PNG bombs), tiny models (--rounds N, --seconds S, --only defaults)
  bench ha            two instances over the formation under /similar load and PUTs: steady state, a switchover, the primary's
                      node killed; success, answers from standbys, write unavailability, lost PUTs (--items N, --seconds S, --readers R);
                      --sizes: items table and HNSW bytes per item and the index build rate (--items N, default 20000; --set clipart)
  bench pages         the item page (HTML, scripts, similar items, 12 thumbnails) p95 at --items N (default 10000); picture storage per 100 000 items; docs/item-page.png
  bench models        a model set deployed, embedded, activated and rolled back under readers (--items N, --readers R, --seconds S, --rate R);
                      --memory: the service's memory with two full-size sets
  bench quality       retrieval quality of models/clipart on the openclipart test split through the HTTP API, with baselines
  bench feedback      the closed loop on simulated shoppers through the HTTP API (--days N, --shoppers N, --seed N, --items N, --tune):
                      held-out recall@10/nDCG@10 content-only vs blended (vs tuned), propensities, A/A, event → answer time
  import CATALOG [--images ZIP] [--format native|merchant-center|shopify] [--mapping JSON|@FILE] [--missing-image skip|textOnly]
         [--url URL] [--key KEY]  upload a catalog to a running service and follow the job (--help: exit codes)
  docker build        the API and database images from docker/ (against local stand-ins where the official bases cannot be pulled)
  docker smoke        the compose stack on loopback ports (host networking): health, items, /similar, an import, Swagger; then removed
  db start|stop|status  the project's private PostgreSQL cluster
  db ha start|status|failover|stop|reset  a pg_auto_failover formation (monitor, primary, two synchronous-quorum standbys)
                      on loopback; while it is up, run and test use its multi-host connection string (start prints it);
                      failover: a planned switchover; reset: stop and delete its data
  models [tiny|full]  generate the seeded ONNX models (tiny by default)
  models train        retrain the default model set (models/clipart) on openclipart from scratch, seeded; prints test-split figures
  models quantize SRC DST  an INT8 model set from an FP32 one (models/README.md)
  models full-int8    the full set's INT8 twin (models quantize models/full models/full-int8), for bench encoders --compare
  models deploy DIR   upload a model set's folder to the running service as the candidate (PUT /models/NAME)
  models tune [--out DIR] [--name NAME] [--deploy URL KEY [--activate]]  retrain only the live set's attention fusion on the
                      logged clicks/carts/purchases, inverse-propensity weighted (default: each against the whole catalog,
                      --objective softmax --distill-weight 3; --objective pairwise: skipped-above pairs); writes a bundle and its training report
  pgvector            build and install pgvector only
  help                this text
USAGE
}

case "${1:-help}" in
  run) shift; cmd_run "$@" ;;
  demo) cmd_demo ;;
  docker) shift; cmd_docker "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  import) shift; cmd_import "$@" ;;
  lint) cmd_lint ;;
  db)
    case "${2:-status}" in
      ha)
        case "${3:-status}" in
          start) ha_start ;;
          status) ha_status ;;
          failover) ha_failover ;;
          stop) ha_stop ;;
          reset) ha_reset ;;
          *) die "usage: ./similarity.sh db ha start|status|failover|stop|reset" ;;
        esac ;;
      start) db_start; db_status ;;
      stop) db_stop ;;
      status) db_status ;;
      *) die "usage: ./similarity.sh db start|stop|status|ha" ;;
    esac ;;
  models)
    case "${2:-tiny}" in
      train) shift 2; cmd_models_train "$@" ;;
      deploy) shift 2; cmd_models_deploy "$@" ;;
      tune) shift 2; cmd_models_tune "$@" ;;
      quantize) shift 2; (($# == 2)) || die "usage: ./similarity.sh models quantize SRC DST"; quantize_models "$@" ;;
      full-int8) ensure_models full; quantize_models models/full models/full-int8 --if-changed; echo models/full-int8/manifest.json ;;
      tiny|full) ensure_models "${2:-tiny}"; echo "models/${2:-tiny}/manifest.json" ;;
      *) die "usage: ./similarity.sh models [tiny|full|full-int8|train|tune|quantize SRC DST]" ;;
    esac ;;
  pgvector) APT_PACKAGES=(postgresql-server-dev-15 build-essential dpkg-dev curl ca-certificates); ensure_apt_packages; ensure_pgvector ;;
  help|-h|--help) usage ;;
  *) usage; exit 2 ;;
esac
