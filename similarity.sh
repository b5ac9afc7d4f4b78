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
# ~25x slower reference one), Pillow, and the openclipart drawings (PNG) with their metadata (SVG).
TRAINING_PACKAGES=(python3-torch python3-torchvision libopenblas0-pthread python3-pil openclipart-png openclipart-svg)

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
  ensure_apt_packages
  ensure_pgvector
  db_init
  if ! db_running; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgresql.log" -w -t 60 start >/dev/null
  fi
  export ConnectionStrings__Similarity="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=similarity"
  psql_admin "SELECT 1 FROM pg_database WHERE datname = 'similarity'" | grep -q 1 || psql_admin "CREATE DATABASE similarity" >/dev/null
}

db_stop() { if db_running; then as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; log "stopped"; fi; }

db_status() {
  if db_running; then echo "running: 127.0.0.1:$PG_PORT, data in $PG_DATA, pgvector $(pgvector_installed_version)"
  else echo "stopped (data in $PG_DATA)"; fi
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
  make_model_set smoke "models/train/*.py models/reference.py models/generate.py" \
    /usr/bin/python3 models/train/train.py --smoke --epochs 30 --out models/smoke
  make_model_set resnet50-untrained "models/export_real.py models/reference.py models/generate.py models/tiny/manifest.json" \
    /usr/bin/python3 models/export_real.py --out models/resnet50-untrained --image-weights none --text-from models/tiny --golden
}

# Retrains the default set from scratch (seeded) and prints the test split's figures.
cmd_models_train() {
  ensure_apt_packages "${TRAINING_PACKAGES[@]}"
  local out=${1:-models/clipart} started=$SECONDS
  /usr/bin/python3 models/train/train.py --out "$out"
  log "trained in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s: $out"
}

# Zips a model set's folder (manifest.json and the files it names) and uploads it to a running service as a
# candidate: PUT /models/NAME (NAME: the folder's name unless --name). Then POST /models/NAME/embed, GET /models/NAME/diff
# and POST /models/NAME/activate, as the README says.
cmd_models_deploy() {
  local dir="" name="" url=${SIMILARITY_URL:-http://127.0.0.1:8080}
  while (($#)); do
    case "$1" in
      --name) name=$2; shift 2 ;;
      --url) url=$2; shift 2 ;;
      *) dir=$1; shift ;;
    esac
  done
  [ -f "$dir/manifest.json" ] || die "usage: ./similarity.sh models deploy DIR [--name NAME] [--url URL] (DIR holds manifest.json)"
  name=${name:-$(basename "$(cd "$dir" && pwd)")}
  local zip
  zip=$(mktemp --suffix=.zip)
  /usr/bin/python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1][:-4], "zip", sys.argv[2])' "$zip" "$dir"
  log "uploading $dir as model set '$name' ($(du -h "$zip" | cut -f1))"
  local status
  status=$(curl -sS -o /dev/stderr -w '%{http_code}' -X PUT -H "X-Api-Key: $(admin_key)" -H 'Content-Type: application/zip' \
    --data-binary "@$zip" "$url/models/$name") || status=000
  rm -f "$zip"
  echo >&2
  [ "$status" = 201 ] || die "PUT /models/$name answered $status"
  log "deployed; next: curl -X POST -H 'X-Api-Key: …' $url/models/$name/embed"
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

CLIPART=/usr/share/openclipart/png

# Uploads a catalog to a running service and follows the job with a live progress bar.
# The key comes from --key, SIMILARITY_ADMIN_API_KEY, Similarity__AdminApiKey or the key file `run` wrote; the CLI
# never makes one up. Its exit codes are in its --help and the README.
cmd_import() {
  dotnet build src/Similarity.Cli -c Release -nologo -v q >&2
  exec dotnet src/Similarity.Cli/bin/Release/net10.0/similarity-import.dll --key-file "$DATA_DIR/admin-api-key" "$@"
}

cmd_bench() {
  local what=${1:-}
  shift || true
  ensure_apt_packages openclipart-png
  dotnet build src/Similarity.Bench -c Release -nologo -v q >&2
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll)
  case "$what" in
    encoders) ensure_models full; "${bench[@]}" encoders --manifest models/full/manifest.json --images "$CLIPART" "$@" ;;
    images) "${bench[@]}" images --images "$CLIPART" "$@" ;;
    similar) bench_similar "$@" ;;
    import) bench_import "$@" ;;
    upload) bench_upload "$@" ;;
    quality) bench_quality "$@" ;;
    isolation) bench_isolation "$@" ;;
    pages) bench_pages "$@" ;;
    models) bench_models "$@" ;;
    *) die "usage: ./similarity.sh bench encoders|images|similar|import|upload|quality|isolation|pages|models [--seconds N] [--items N] [--rows N]" ;;
  esac
}

psql_admin() { as_postgres "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d "${2:-postgres}" -tAc "$1"; }

# Starts the built service (Release) for a benchmark: from its output folder, as a deployment runs it, with
# request logging off. Sets BENCH_API_PID; the service is stopped when the script exits.
bench_service_start() {
  local cs=$1 manifest=$2 url=$3 log_file=$4
  shift 4 # the rest: more settings, as --Key=Value
  (cd src/Similarity.Api/bin/Release/net10.0 &&
    ConnectionStrings__Similarity="$cs" Similarity__Models__Manifest="$manifest" ASPNETCORE_URLS=$url \
    Similarity__AdminApiKey=bench-only-admin-key-not-secret Similarity__Imports__SpoolPath="$DATA_DIR/bench-spool" \
    exec dotnet Similarity.Api.dll --Logging:LogLevel:Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware=Warning "$@") >"$log_file" 2>&1 &
  BENCH_API_PID=$!
  trap 'kill $BENCH_API_PID 2>/dev/null || true' EXIT
  # Healthy, not just ready: the HNSW index is built in the background after start (a first start over a
  # large catalog takes minutes), and until it is valid /similar scans exactly.
  log "waiting for the service and its HNSW index"
  local waited=0
  until curl -fsS "$url/health/ready" 2>/dev/null | grep -q '^{"status":"Healthy"'; do
    kill -0 $BENCH_API_PID 2>/dev/null || { tail -20 "$log_file" >&2; die "the service stopped"; }
    sleep 1; waited=$((waited + 1))
    ((waited < 1800)) || die "the service was not ready after 30 minutes"
  done
}

bench_service_stop() { kill "$BENCH_API_PID" 2>/dev/null || true; wait "$BENCH_API_PID" 2>/dev/null || true; }

# Uploads CATALOG [IMAGES_ZIP] to the benchmark's service at URL, follows the job to its end and prints it (JSON);
# dies unless it succeeded.
bench_import_job() {
  local url=$1 catalog=$2 images=${3:-} id status job
  local form=(-F "catalog=@$catalog")
  [ -z "$images" ] || form+=(-F "images=@$images")
  id=$(curl -fsS -H "X-Api-Key: bench-only-admin-key-not-secret" "${form[@]}" "$url/imports" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    job=$(curl -fsS -H "X-Api-Key: bench-only-admin-key-not-secret" "$url/imports/$id")
    status=$(printf '%s' "$job" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    case "$status" in succeeded|succeeded_with_errors|failed|cancelled) break ;; esac
    sleep 1
  done
  [ "$status" = succeeded ] || die "bench import: the job ended $status: $job"
  printf '%s' "$job"
}

# Issue #13 on a running service: --items N (default 2 000) drawings imported with the trained set (models/clipart),
# then readers on GET /similar while the tiny set is deployed beside it, embeds the catalog from the stored pictures,
# is activated and rolled back; every answer checked (status; scores wholly one set's). Latency per phase against the
# readers alone in the same run, and resident memory with one and two sets loaded.
bench_models() {
  local items=2000 readers=4 seconds=20 rate=20
  while (($#)); do
    case "$1" in
      --memory) shift; bench_models_memory "$@"; return ;;
      --items) items=$2; shift 2 ;;
      --readers) readers=$2; shift 2 ;;
      --seconds) seconds=$2; shift 2 ;;
      --rate) rate=$2; shift 2 ;;
      *) die "bench models: unknown option $1" ;;
    esac
  done
  db_start
  ensure_models
  ensure_apt_packages openclipart-png
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  dotnet build src/Similarity.Bench -c Release -nologo -v q >&2
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll) work="$DATA_DIR/bench-models"
  local db=similarity_bench_models url=http://127.0.0.1:18098
  local cs="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db"
  rm -rf "$work/model-sets"
  "${bench[@]}" import-catalog --images "$CLIPART" --items "$items" --distinct "$items" --out "$work" >&2
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql_admin "CREATE DATABASE $db" >/dev/null
  bench_service_start "$cs" "$ROOT/models/clipart/manifest.json" "$url" "$DATA_DIR/bench-models-api.log" \
    --Similarity:Models:StorePath="$work/model-sets" --Similarity:Models:EmbedItemsPerSecond="$rate"
  log "importing $items rows"
  bench_import_job "$url" "$work/catalog.csv" "$work/images.zip" >/dev/null
  until [ "$(psql_admin "SELECT count(*) FROM similar_list_queue" "$db")" = 0 ]; do sleep 1; done
  log "readers for ${seconds}s alone, then through deploy, embedding (at most $rate items/s), switch and rollback"
  "${bench[@]}" models --url "$url" --connection "$cs" --pid "$BENCH_API_PID" --candidate "$ROOT/models/tiny" --name tiny-candidate \
    --readers "$readers" --seconds "$seconds"
  bench_service_stop
}

# What two full-size sets (ResNet-50 and BERT-base shapes, models/full) cost in memory: the service's resident memory
# with the set live alone, then after a copy of it (its manifest's description changed: another fingerprint) is deployed
# beside it with ./similarity.sh models deploy. No catalog needed.
bench_models_memory() {
  db_start
  ensure_models full
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local work="$DATA_DIR/bench-models-memory" db=similarity_bench_models_memory url=http://127.0.0.1:18099
  rm -rf "$work" && mkdir -p "$work"
  cp -r models/full "$work/full-copy"
  /usr/bin/python3 - "$work/full-copy/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["description"] = (m.get("description") or "") + " (copy for bench models --memory)"
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql_admin "CREATE DATABASE $db" >/dev/null
  bench_service_start "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db" \
    "$ROOT/models/full/manifest.json" "$url" "$DATA_DIR/bench-models-memory-api.log" --Similarity:Models:StorePath="$work/model-sets"
  rss() { awk '/^VmRSS:/{printf "%.0f", $2 / 1024}' "/proc/$BENCH_API_PID/status"; }
  local one two
  one=$(rss)
  Similarity__AdminApiKey=bench-only-admin-key-not-secret cmd_models_deploy "$work/full-copy" --name full-copy --url "$url" 2>/dev/null
  two=$(rss)
  local loaded
  curl -fsS -H "X-Api-Key: bench-only-admin-key-not-secret" "$url/models" >"$work/models.json"
  loaded=$(/usr/bin/python3 - "$work/models.json" <<'PY'
import json, sys
sets = json.load(open(sys.argv[1]))["models"]
print(" / ".join(f"{m['name']} {m['memoryBytes'] / 1048576:.0f} MiB ({m['bundleBytes'] / 1048576:.0f} MiB of files)" for m in sets))
PY
)
  bench_service_stop
  cat <<TABLE
| measure (models/full: $(du -sh models/full | cut -f1) of files) | value |
|---|---:|
| service resident memory, the set live alone | $one MiB |
| the same, a second full-size set deployed beside it | $two MiB |
| process growth at load (GET /models memoryBytes) | $loaded |
TABLE
}

# The item page on a warmed service with --items N (default 10 000) drawings, imported through the API with the
# trained models: its HTML, scripts, item, similar items and 12 thumbnails, p50/p95/p99, against the floor of any
# request and one thumbnail alone in the same run; what the stored pictures cost; the README's screenshot.
bench_pages() {
  local items=10000 iterations=1000
  while (($#)); do
    case "$1" in
      --items) items=$2; shift 2 ;;
      --iterations) iterations=$2; shift 2 ;;
      *) die "bench pages: unknown option $1" ;;
    esac
  done
  db_start
  ensure_apt_packages chromium
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll) work="$DATA_DIR/bench-pages"
  local db=similarity_bench_pages url=http://127.0.0.1:18097
  "${bench[@]}" import-catalog --images "$CLIPART" --items "$items" --distinct 2000 --out "$work"
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql_admin "CREATE DATABASE $db" >/dev/null
  bench_service_start "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db" \
    "$ROOT/models/clipart/manifest.json" "$url" "$DATA_DIR/bench-pages-api.log"
  log "importing $items rows"
  bench_import_job "$url" "$work/catalog.csv" "$work/images.zip" >/dev/null
  # The pages are timed on a settled service: the neighbour-list worker has applied every imported row.
  local drain_start=$SECONDS
  until [ "$(psql_admin "SELECT count(*) FROM similar_list_queue" "$db")" = 0 ]; do sleep 1; done
  local drain=$((SECONDS - drain_start))
  log "neighbour lists up to date $drain s after the import's end"
  log "item pages: 100 to warm up, then $iterations"
  local timing storage
  timing=$("${bench[@]}" pages --url "$url" --iterations "$iterations" --screenshot "$ROOT/docs/item-page.png")
  storage=$(psql_admin "SELECT count(*), round(avg(octet_length(full_jpeg))), round(avg(octet_length(thumb_jpeg))),
    pg_total_relation_size('item_pictures') FROM item_pictures" "$db")
  bench_service_stop
  local skus p50 p95 p99 floor thumb count full_avg thumb_avg table_bytes
  read -r skus p50 p95 p99 floor thumb <<<"$timing"
  IFS='|' read -r count full_avg thumb_avg table_bytes <<<"$storage"
  cat <<TABLE
| measure | value |
|---|---:|
| items (pictures kept) | $count |
| item page + 12 thumbnails, p50 | $p50 ms |
| item page + 12 thumbnails, p95 | **$p95 ms** |
| item page + 12 thumbnails, p99 | $p99 ms |
| floor: GET /health/live alone, p95 | $floor ms |
| one thumbnail alone, p95 | $thumb ms |
| stored picture, mean: 640 px copy / 256 px thumbnail | $full_avg / $thumb_avg bytes |
| item_pictures on disk, per 100 000 items | $(awk -v b="$table_bytes" -v n="$count" 'BEGIN{printf "%.1f GiB", b / n * 100000 / 1073741824}') |
| neighbour lists applied after the import's end | $drain s |
TABLE
}

# Imports CATALOG_DIR (catalog.csv + images.zip) into a fresh database through a fresh service; prints
# "rows_per_second peak_rss_kib".
# BENCH_CATALOG (default catalog.csv) and BENCH_IMAGES (default images.zip; empty: none) name the files within the
# folder; further arguments are service settings (--Key=Value).
bench_import_once() {
  local dir=$1 manifest=$2 db=similarity_bench_import url=http://127.0.0.1:18093
  shift 2
  local catalog=${BENCH_CATALOG:-catalog.csv} images=${BENCH_IMAGES-images.zip}
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql_admin "CREATE DATABASE $db" >/dev/null
  bench_service_start "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db" "$manifest" "$url" "$DATA_DIR/bench-import-api.log" "$@"
  local job rate peak
  job=$(bench_import_job "$url" "$dir/$catalog" "${images:+$dir/$images}")
  rate=$(printf '%s' "$job" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rowsPerSecond"])')
  peak=$(awk '/VmHWM/{print $2}' "/proc/$BENCH_API_PID/status")
  bench_service_stop
  echo "$rate $peak"
}

# End-to-end import throughput (full models) against the bare encoders, and peak memory at N and 10×N rows.
bench_import() {
  local items=5000 flat=2000 seconds=20
  while (($#)); do
    case "$1" in
      --source)
        [ "$2" = url ] || die "bench import: --source takes url (the default compares nothing by URL)"
        shift 2; bench_import_url "$@"; return ;;
      --items) items=$2; shift 2 ;;
      --flat-rows) flat=$2; shift 2 ;;
      --seconds) seconds=$2; shift 2 ;;
      *) die "bench import: unknown option $1" ;;
    esac
  done
  db_start
  ensure_models full
  ensure_models tiny
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll) work="$DATA_DIR/bench-import"
  "${bench[@]}" import-catalog --images "$CLIPART" --items "$items" --out "$work/full"
  "${bench[@]}" import-catalog --images "$CLIPART" --items "$flat" --out "$work/small"
  "${bench[@]}" import-catalog --images "$CLIPART" --items $((flat * 10)) --out "$work/large"
  log "bare encoders (batch 32, ready-made tensors), ${seconds}s each"
  local bare full small large
  bare=$("${bench[@]}" bare-encoders --manifest models/full/manifest.json --catalog "$work/full" --seconds "$seconds")
  log "importing $items rows with the full models"
  full=$(bench_import_once "$work/full" "$ROOT/models/full/manifest.json")
  log "memory: $flat and $((flat * 10)) rows with the tiny models"
  small=$(bench_import_once "$work/small" "$ROOT/models/tiny/manifest.json")
  large=$(bench_import_once "$work/large" "$ROOT/models/tiny/manifest.json")
  read -r rate peak <<<"$full"
  read -r small_rate small_peak <<<"$small"
  read -r large_rate large_peak <<<"$large"
  cat <<TABLE
| measure | value |
|---|---:|
| import, full models, $items rows (image + text each) | $rate rows/s |
| bare encoders, same machine and run (1 image + 1 text per item, batch 32) | $bare items/s |
| import / bare encoders | $(awk -v a="$rate" -v b="$bare" 'BEGIN{printf "%.2f", a / b}') |
| service peak memory, full models, $items rows | $((peak / 1024)) MiB |
| service peak memory, tiny models, $flat rows ($small_rate rows/s) | $((small_peak / 1024)) MiB |
| service peak memory, tiny models, $((flat * 10)) rows ($large_rate rows/s) | $((large_peak / 1024)) MiB |
| 10× rows / 1× rows, peak memory | $(awk -v a="$large_peak" -v b="$small_peak" 'BEGIN{printf "%.2f", a / b}') |
TABLE
}

# How long POST /imports takes to answer 202 for a tiny catalog and for one of --rows rows (default: the
# 5 000 000-row limit), against the plain cost of sending the same bytes (curl to a discard server); then how
# long the job spends on the checks that used to run inside the request (counting rows), read off the job.
bench_upload() {
  local rows=5000000
  while (($#)); do
    case "$1" in
      --rows) rows=$2; shift 2 ;;
      *) die "bench upload: unknown option $1" ;;
    esac
  done
  db_start
  ensure_models tiny
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local db=similarity_bench_upload url=http://127.0.0.1:18094 work="$DATA_DIR/bench-upload" key=bench-only-admin-key-not-secret
  mkdir -p "$work"
  [ -s "$work/catalog-$rows.csv" ] || /usr/bin/python3 - "$rows" "$work/catalog-$rows.csv" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("sku,title,category,price\n")
    for i in range(rows):
        f.write(f"up-{i:08d},Uploaded item number {i} in plain cotton,shirts,{i % 300}.99\n")
PY
  printf 'sku,title\nup-1,One item\n' >"$work/catalog-1.csv"
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql_admin "CREATE DATABASE $db" >/dev/null
  rm -rf "$DATA_DIR/bench-spool"
  bench_service_start "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db" "$ROOT/models/tiny/manifest.json" "$url" "$DATA_DIR/bench-upload-api.log"
  post() { curl -fsS -o "$work/answer.json" -w '%{http_code} %{time_total}' -H "X-Api-Key: $key" -F "catalog=@$1" "$url/imports"; }
  # The plain cost of sending the same multipart body: a server that reads and discards it.
  /usr/bin/python3 - >"$work/sink.port" <<'PY' &
import http.server, socketserver, sys
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        left = int(self.headers["Content-Length"])
        while left > 0:
            left -= len(self.rfile.read(min(left, 1 << 20)))
        self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
with socketserver.TCPServer(("127.0.0.1", 0), Sink) as server:
    print(server.server_address[1], flush=True); server.serve_forever()
PY
  local sink=$!
  until [ -s "$work/sink.port" ]; do sleep 0.1; done
  local small big plain job total_at waited=0
  small=$(post "$work/catalog-1.csv")
  plain=$(curl -fsS -o /dev/null -w '%{time_total}' -F "catalog=@$work/catalog-$rows.csv" "http://127.0.0.1:$(cat "$work/sink.port")/")
  kill "$sink"
  big=$(post "$work/catalog-$rows.csv")
  job=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/answer.json")
  local start=$(date +%s.%N)
  until curl -fsS -H "X-Api-Key: $key" "$url/imports/$job" | grep -q '"total":[0-9]'; do
    sleep 0.1; waited=$((waited + 1)); ((waited < 6000)) || die "bench upload: the job never counted its rows"
  done
  total_at=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
  curl -fsS -X DELETE -H "X-Api-Key: $key" "$url/imports/$job" >/dev/null || true
  bench_service_stop
  cat <<TABLE
| measure | value |
|---|---:|
| POST /imports, 1 row: status, seconds to the answer | ${small% *}, ${small#* } s |
| POST /imports, $rows rows ($(du -m "$work/catalog-$rows.csv" | cut -f1) MiB): status, seconds to the answer | ${big% *}, ${big#* } s |
| the same body sent to a discard server (transfer alone) | $plain s |
| POST / transfer alone, $rows rows | $(awk -v a="${big#* }" -v b="$plain" 'BEGIN{printf "%.2f", a / b}') |
| after the 202: until the job had counted its rows (its checks) | about $total_at s |
TABLE
}

# The same catalog imported twice through fresh services, same run, full models: pictures in a zip, then pictures by
# URL from a local web server (the bench tool's serve-pictures, on loopback). Prints both rates and their ratio.
bench_import_url() {
  local items=2000
  while (($#)); do
    case "$1" in
      --items) items=$2; shift 2 ;;
      *) die "bench import --source url: unknown option $1" ;;
    esac
  done
  db_start
  ensure_models full
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll) work="$DATA_DIR/bench-import-url" port=18096
  "${bench[@]}" import-catalog --images "$CLIPART" --items "$items" --out "$work"
  # The same rows, each picture named by its URL on the picture server instead of its zip entry.
  sed "s#,img/#,http://127.0.0.1:$port/img/#" "$work/catalog.csv" >"$work/catalog-urls.csv"
  "${bench[@]}" serve-pictures --zip "$work/images.zip" --port "$port" >"$DATA_DIR/bench-pictures.log" 2>&1 &
  local server=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/img/0000.jpg" 2>/dev/null; do kill -0 $server 2>/dev/null || { tail -3 "$DATA_DIR/bench-pictures.log" >&2; die "the picture server did not start"; }; sleep 0.2; done
  log "importing $items rows with pictures in a zip"
  local zip url
  zip=$(bench_import_once "$work" "$ROOT/models/full/manifest.json")
  log "importing $items rows with pictures by URL"
  url=$(BENCH_CATALOG=catalog-urls.csv BENCH_IMAGES="" bench_import_once "$work" "$ROOT/models/full/manifest.json" --Similarity:Imports:ImageFetch:AllowLoopback=true)
  kill $server 2>/dev/null || true
  read -r zip_rate _ <<<"$zip"
  read -r url_rate _ <<<"$url"
  cat <<TABLE
| measure | value |
|---|---:|
| import, full models, $items rows, pictures in a zip | $zip_rate rows/s |
| the same rows, pictures by URL from a local server | $url_rate rows/s |
| by URL / in a zip | $(awk -v a="$url_rate" -v b="$zip_rate" 'BEGIN{printf "%.2f", a / b}') |
TABLE
}

# /similar under load against a seeded catalog, in one run: the precomputed path (each item's neighbour list; the
# service's worker builds the lists first, timed), the live path (a service with ListSize=0: every answer searches the
# index), the plain pgvector query driven by pgbench (the baseline) and the service's own SQL; recall@10 of both paths
# against an exact scan, the lists' recall@100, their disk and memory, and their freshness under 20 upserts/s.
# All on this machine's loopback.
bench_similar() {
  local items=100000 seconds=10 warmup=60 rounds=7 stream=20
  while (($#)); do
    case "$1" in
      --items) items=$2; shift 2 ;;
      --seconds) seconds=$2; shift 2 ;;
      --warmup) warmup=$2; shift 2 ;;
      --rounds) rounds=$2; shift 2 ;;
      --stream) stream=$2; shift 2 ;;
      *) die "bench similar: unknown option $1" ;;
    esac
  done
  ensure_apt_packages wrk hey
  db_start
  ensure_models full
  local db=similarity_bench_$items
  psql_admin "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || psql_admin "CREATE DATABASE $db" >/dev/null
  local cs="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db;Maximum Pool Size=64"
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll)
  "${bench[@]}" seed-similar --connection "$cs" --manifest models/full/manifest.json --items "$items"
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local manifest=$ROOT/models/full/manifest.json live_url=http://127.0.0.1:18091 listed_url=http://127.0.0.1:18092

  # The precomputed path's service (ListSize 100, the default) first, alone: its worker builds whatever lists are missing.
  local queued lists_before started
  bench_service_start "$cs" "$manifest" "$listed_url" "$DATA_DIR/bench-similar-listed-api.log"
  # Globals, not locals: the EXIT trap runs after the function's locals are gone.
  BENCH_LISTED_PID=$BENCH_API_PID
  local listed_pid=$BENCH_API_PID
  started=$(date +%s.%N)
  queued=$(psql_admin "SELECT count(*) FROM similar_list_queue" "$db")
  lists_before=$(psql_admin "SELECT count(*) FROM similar_lists" "$db")
  log "the worker applies $queued queued items ($lists_before lists stored)"
  until [ "$(psql_admin "SELECT count(*) FROM similar_list_queue" "$db")" = 0 ]; do
    kill -0 "$listed_pid" 2>/dev/null || { tail -20 "$DATA_DIR/bench-similar-listed-api.log" >&2; die "the service stopped"; }
    sleep 1
  done
  local build_s
  build_s=$(seconds_since "$started")
  # The live path's service: no lists are read, and its worker does nothing.
  bench_service_start "$cs" "$manifest" "$live_url" "$DATA_DIR/bench-similar-live-api.log" --Similarity:Search:ListSize=0
  local live_pid=$BENCH_API_PID
  trap 'kill $BENCH_LISTED_PID $BENCH_API_PID 2>/dev/null || true' EXIT

  local fp dim
  fp=$(psql_admin "SELECT fingerprint FROM items LIMIT 1" "$db")
  dim=$(psql_admin "SELECT vector_dims(embedding) FROM items LIMIT 1" "$db")
  local work="$DATA_DIR/bench-similar"
  mkdir -p "$work"
  cat >"$work/similar.lua" <<LUA
math.randomseed(42)
request = function() return wrk.format("GET", string.format("/similar/b-%06d?k=10", math.random(0, $items - 1))) end
LUA
  # The baseline: the plainest pgvector query, prepared; the SKU is built from pgbench's random number. The index is
  # partial (WHERE vector_dims(embedding) = $dim, so a table may hold several model sets' dimensions): without its
  # predicate the query cannot use it and scans the table (seconds per query). The predicate costs nothing at run time:
  # the planner drops it as implied by the index's (no Filter on it in EXPLAIN).
  cat >"$work/plain.sql" <<SQL
\\set id random(0, $items - 1)
SELECT sku FROM items WHERE sku <> 'b-' || lpad(:id::text, 6, '0') AND vector_dims(embedding) = $dim
ORDER BY embedding::halfvec($dim) <=> (SELECT embedding::halfvec($dim) FROM items WHERE sku = 'b-' || lpad(:id::text, 6, '0')) LIMIT 10;
SQL
  # The service's one round trip on the live path, statement for statement: revision and existence, settings, search.
  cat >"$work/similar.sql" <<SQL
\\set id random(0, $items - 1)
\\startpipeline
SELECT revision, EXISTS (SELECT 1 FROM items WHERE sku = 'b-' || lpad(:id::text, 6, '0')) FROM catalog_state;
SELECT set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'relaxed_order', true);
SELECT sku, title, category, price, score, image_score, text_score FROM (
  SELECT sku, title, category, price, 1 - (embedding <=> q.e) AS score,
         1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score
  FROM (SELECT * FROM items WHERE fingerprint = '$fp' AND sku <> ALL(ARRAY['b-' || lpad(:id::text, 6, '0')]) AND vector_dims(embedding) = $dim
        ORDER BY (embedding::halfvec($dim)) <=> (SELECT embedding FROM items WHERE sku = 'b-' || lpad(:id::text, 6, '0'))::halfvec($dim)
        LIMIT 40) c,
       (SELECT embedding AS e, image_embedding AS i, text_embedding AS t FROM items WHERE sku = 'b-' || lpad(:id::text, 6, '0')) q
) s ORDER BY score DESC, sku LIMIT 10;
\\endpipeline
SQL

  log "recall@10 over 200 queries, each path; every answer's source checked"
  local recall_listed recall_live
  recall_listed=$("${bench[@]}" recall --connection "$cs" --url "$listed_url" --items "$items" --queries 200 --source precomputed --lists 100) ||
    die "bench similar: the precomputed service answered from another path"
  recall_live=$("${bench[@]}" recall --connection "$cs" --url "$live_url" --items "$items" --queries 200 --source live) ||
    die "bench similar: the live service answered from another path"
  local sizes
  sizes=$(psql_admin "SELECT pg_total_relation_size('similar_lists'), pg_relation_size('similar_lists'), pg_indexes_size('similar_lists'),
    pg_total_relation_size(reltoastrelid), pg_total_relation_size('similar_list_queue'), pg_total_relation_size('items'), count(*)
    FROM pg_class, similar_lists WHERE pg_class.oid = 'similar_lists'::regclass GROUP BY reltoastrelid" "$db")
  log "recall@10: precomputed $(head -1 <<<"$recall_listed") (lists' recall@100 $(tail -1 <<<"$recall_listed")), live $recall_live; similar_lists: $sizes"

  # Tiered JIT keeps compiling for the first minute under this load (a fifth of the service's CPU when measured
  # after 5 s): a storefront runs for days, so the figures are for the warmed-up services.
  log "warm-up: wrk for ${warmup}s on each service"
  wrk -t2 -c16 -d"${warmup}s" -s "$work/similar.lua" "$live_url" >/dev/null
  wrk -t2 -c16 -d"${warmup}s" -s "$work/similar.lua" "$listed_url" >/dev/null
  local rss_listed rss_live
  rss_listed=$(awk '/VmRSS/{print $2}' "/proc/$listed_pid/status")
  rss_live=$(awk '/VmRSS/{print $2}' "/proc/$live_pid/status")

  # This machine's speed drifts by more than 10% from minute to minute (other tenants), so many short rounds each
  # measure every path back to back, and the summary takes the median round.
  local round clk hey_sku rows="" lat_rows="" live_ratios=() listed_ratios=() sql_ratios=() live_p99s=() listed_p99s=()
  clk=$(getconf CLK_TCK)
  hey_sku="b-$(printf %06d $((items / 2)))"
  # peak URL PID NAME: wrk against one service; prints "req/s p99 µs-of-service-CPU-per-request"
  peak() {
    local ticks requests
    ticks=$(awk '{print $14 + $15}' "/proc/$2/stat")
    wrk -t2 -c16 -d"${seconds}s" --latency -s "$work/similar.lua" "$1" >"$work/wrk-$3-$round.txt"
    ticks=$(( $(awk '{print $14 + $15}' "/proc/$2/stat") - ticks ))
    requests=$(awk '/requests in/{print $1}' "$work/wrk-$3-$round.txt")
    printf '%s %s %s\n' "$(awk '/Requests\/sec/{print $2}' "$work/wrk-$3-$round.txt")" "$(awk '$1=="99%"{print $2}' "$work/wrk-$3-$round.txt")" \
      "$(awk -v t="$ticks" -v c="$clk" -v n="$requests" 'BEGIN{printf "%.0f", t / c * 1e6 / n}')"
  }
  # at_half URL NAME PEAK: hey holding half the peak on one query SKU; prints "req/s p50 p99" (ms)
  at_half() {
    local half
    half=$(awk -v p="$3" 'BEGIN{printf "%d", p / 2}')
    hey -z "${seconds}s" -c 8 -q $((half / 8)) "$1/similar/$hey_sku?k=10" >"$work/hey-$2-$round.txt"
    printf '%s %s %s\n' "$(awk '/Requests\/sec/{printf "%.0f", $2}' "$work/hey-$2-$round.txt")" \
      "$(awk '/ 50% in/{printf "%.1f", $3 * 1000}' "$work/hey-$2-$round.txt")" "$(awk '/ 99% in/{printf "%.1f", $3 * 1000}' "$work/hey-$2-$round.txt")"
  }
  # sources URL: how many of 20 random item pages answered from their list
  sources() {
    local i n=0
    for i in $(seq 20); do
      curl -fsS "$1/similar/b-$(printf %06d $(( (RANDOM * 32768 + RANDOM) % items )))?k=10" | grep -q '"source":"precomputed"' && n=$((n + 1))
    done
    echo "$n"
  }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
  for round in $(seq "$rounds"); do
    log "round $round/$rounds: live, precomputed (wrk); plain pgvector, service SQL (pgbench); both at half their peak (hey); ${seconds}s each"
    local live listed plain servicesql live_half listed_half on_list off_list
    live=($(peak "$live_url" "$live_pid" live))
    listed=($(peak "$listed_url" "$listed_pid" listed))
    ! grep -q 'Non-2xx' "$work/wrk-live-$round.txt" "$work/wrk-listed-$round.txt" || die "bench similar: non-2xx answers under load (see $work/wrk-*-$round.txt)"
    PGOPTIONS="-c hnsw.ef_search=100 -c hnsw.iterative_scan=relaxed_order" PGPASSWORD=$(pg_password) pgbench -n -M prepared -c16 -j2 -T "$seconds" \
      -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$work/plain.sql" "$db" >"$work/plain-$round.txt" 2>&1
    PGPASSWORD=$(pg_password) pgbench -n -M prepared -c16 -j2 -T "$seconds" -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$work/similar.sql" "$db" \
      >"$work/pgbench-$round.txt" 2>&1
    plain=$(awk '/^tps = /{printf "%.1f", $3; exit}' "$work/plain-$round.txt")
    servicesql=$(awk '/^tps = /{printf "%.1f", $3; exit}' "$work/pgbench-$round.txt")
    [ -n "$plain" ] && [ -n "$servicesql" ] || die "bench similar: pgbench failed (see $work/plain-$round.txt, $work/pgbench-$round.txt)"
    live_half=($(at_half "$live_url" live "${live[0]}"))
    listed_half=($(at_half "$listed_url" listed "${listed[0]}"))
    on_list=$(sources "$listed_url")
    off_list=$(sources "$live_url")
    [ "$on_list" = 20 ] && [ "$off_list" = 0 ] || die "bench similar: round $round: $on_list/20 precomputed answers from the lists' service, $off_list/20 from the live one"
    live_ratios+=("$(ratio "${live[0]}" "$plain")"); listed_ratios+=("$(ratio "${listed[0]}" "$plain")"); sql_ratios+=("$(ratio "$servicesql" "$plain")")
    live_p99s+=("${live_half[2]}"); listed_p99s+=("${listed_half[2]}")
    rows+="| $round | ${live[0]} req/s, p99 ${live[1]}, ${live[2]} µs CPU | ${listed[0]} req/s, p99 ${listed[1]}, ${listed[2]} µs CPU | $plain tx/s | $servicesql tx/s |"
    rows+=" $(ratio "${live[0]}" "$plain") | $(ratio "${listed[0]}" "$plain") | $(ratio "$servicesql" "$plain") |"$'\n'
    lat_rows+="| $round | ${live_half[0]} req/s: p50 ${live_half[1]} ms, p99 ${live_half[2]} ms | ${listed_half[0]} req/s: p50 ${listed_half[1]} ms, p99 ${listed_half[2]} ms | 20/20, 0/20 |"$'\n'
  done
  # Last, so that what the worker has not applied by the end competes with nothing measured: what is still queued when
  # the services stop is applied by the next run's first service before anything is timed.
  log "freshness: ${stream}s of 20 upserts/s by SQL, each from its commit to its lists applied (up to 180 s after the stream)"
  local fresh
  fresh=$("${bench[@]}" freshness --connection "$cs" --items "$items" --rate 20 --seconds "$stream" --drain 180)
  log "freshness: $fresh"
  median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
  range() { printf '%s\n' "$@" | sort -n | awk 'NR==1{a=$1} {b=$1} END{print a "–" b}'; }
  local total heap index toast queue items_size count
  read -r total heap index toast queue items_size count <<<"$(tr '|' ' ' <<<"$sizes")"
  mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b / 1048576}'; }
  local listed_recall list_recall
  listed_recall=$(sed -n 1p <<<"$recall_listed"); list_recall=$(sed -n 2p <<<"$recall_listed")
  cat <<TABLE
$items items (fused $dim-d; HNSW on halfvec($dim), m=16, ef_construction=64, ef_search=100 with iterative scan relaxed_order for
every path, the plain query included); neighbour lists of 100. ${warmup}s warm-up per service, then $rounds rounds of ${seconds}s per measure,
16 connections (wrk) or clients (pgbench, prepared). Plain: \`SELECT sku FROM items WHERE sku <> \$1 AND vector_dims(embedding) = $dim
ORDER BY embedding::halfvec($dim) <=> (SELECT embedding::halfvec($dim) FROM items WHERE sku = \$1) LIMIT 10\` (the predicate: the index's own).

| round | live path (wrk) | precomputed path (wrk) | plain pgvector (pgbench) | service's SQL (pgbench) | live / plain | precomputed / plain | service's SQL / plain |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows}
| round | live at half its peak (hey) | precomputed at half its peak (hey) | sample of 20 pages: precomputed answers, precomputed / live service |
|---|---:|---:|---|
${lat_rows}
| measure | value | target |
|---|---:|---|
| live / plain pgvector, median round | $(median "${live_ratios[@]}") (rounds $(range "${live_ratios[@]}")) | ≥ 0.8 |
| precomputed / plain pgvector, median round | $(median "${listed_ratios[@]}") (rounds $(range "${listed_ratios[@]}")) | ≥ 5 |
| service's SQL / plain pgvector, median round | $(median "${sql_ratios[@]}") (rounds $(range "${sql_ratios[@]}")) | |
| p99 at half the peak, median round: live, precomputed | $(median "${live_p99s[@]}") ms, $(median "${listed_p99s[@]}") ms | |
| recall@10 vs exact scan (200 queries): precomputed, live | $listed_recall, $recall_live | ≥ 0.99 (lists) |
| lists' recall@100 vs exact top 100 (the same 200 items) | $list_recall | |
| lists built this run | $((count - lists_before)) new, $queued queued items applied in ${build_s} s | |
| similar_lists on disk ($count lists) | $(mib "$total"): heap $(mib "$heap"), GIN and primary key $(mib "$index"), TOAST $(mib "$toast"); queue $(mib "$queue"); items for comparison $(mib "$items_size") | |
| service memory after warm-up (RSS): with lists, without | $((rss_listed / 1024)) MiB, $((rss_live / 1024)) MiB | |
| freshness: ${stream}s of upserts by SQL at 20/s (commit to every affected list applied) | ${fresh} | p99 ≤ 2 s |
TABLE
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

# The live OpenAPI document of a freshly started service, linted by Spectral (spectral:oas + OWASP); exits non-zero
# on any error. The rules the project does not follow are listed with their reasons in tests/lint/.spectral.yaml.
cmd_lint() {
  ensure_lint_tools
  db_start
  ensure_models
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local url=http://127.0.0.1:18095 document="$DATA_DIR/openapi.json"
  mkdir -p "$DATA_DIR" # a fresh checkout has none yet
  bench_service_start "$ConnectionStrings__Similarity" "$ROOT/models/tiny/manifest.json" "$url" "$DATA_DIR/lint-api.log"
  curl -fsS "$url/swagger/v1/swagger.json" >"$document"
  bench_service_stop
  tests/lint/node_modules/.bin/spectral lint "$document" --ruleset tests/lint/.spectral.yaml --fail-severity error
}

# Retrieval quality of the committed trained set on the test split, through the service's HTTP API only: each model
# set (trained, the same with mean fusion, the same towers untrained) gets a fresh database and service, is imported
# with POST /imports and asked with GET /similar and POST /search; then the table, with TF-IDF as the lexical baseline.
bench_quality() {
  (($# == 0)) || die "bench quality takes no options"
  ensure_apt_packages "${TRAINING_PACKAGES[@]}"
  db_start
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  local work="$DATA_DIR/bench-quality" py=(/usr/bin/python3 models/train/bench_quality.py)
  rm -rf "$work"
  mkdir -p "$work/sets"
  "${py[@]}" prepare --work "$work" --clipart models/clipart
  log "the untrained towers (same code and seed, no training step)"
  /usr/bin/python3 models/train/train.py --untrained --out "$work/sets/untrained" >"$work/untrained.log" 2>&1
  local set manifest db=similarity_bench_quality url=http://127.0.0.1:18094
  for set in clipart mean untrained; do
    manifest=$ROOT/models/clipart/manifest.json
    [ "$set" = clipart ] || manifest=$work/sets/$set/manifest.json
    psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    psql_admin "CREATE DATABASE $db" >/dev/null
    # 100 candidates per result: /similar?k=10 re-weighted by image or text then ranks the whole test split. The bench
    # is one client asking for every drawing's text search: the per-client encoder limit (10/s) would refuse it.
    Similarity__Search__WeightedCandidatesPerResult=100 \
    Similarity__RateLimits__PerClientBurst=1000000 Similarity__RateLimits__PerClientPerSecond=1000000 \
      bench_service_start "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db" "$manifest" "$url" "$work/$set-api.log"
    log "measuring the $set set"
    "${py[@]}" measure --work "$work" --set "$set" --url "$url"
    bench_service_stop
  done
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  "${py[@]}" table --work "$work"
}

# /similar's latency alone and while the encoder routes are flooded (the issue's flood: 32 clients sending a
# ~260 KB JPEG with a text to /embed, 8 sending the 16-bit PNG bomb), with the tiny models as in the issue.
# Each configuration gets a fresh service; rounds alternate alone / flooded at the same request rate (half the
# round's peak), because this shared machine's speed drifts from minute to minute.
bench_isolation() {
  local items=100000 seconds=10 rounds=3 warmup=20 only=""
  while (($#)); do
    case "$1" in
      --items) items=$2; shift 2 ;;
      --seconds) seconds=$2; shift 2 ;;
      --rounds) rounds=$2; shift 2 ;;
      --warmup) warmup=$2; shift 2 ;;
      --only) only=$2; shift 2 ;;
      *) die "bench isolation: unknown option $1" ;;
    esac
  done
  ensure_apt_packages wrk hey
  db_start
  ensure_models tiny
  local db=similarity_bench_tiny_$items
  psql_admin "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || psql_admin "CREATE DATABASE $db" >/dev/null
  local cs="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$(pg_password);Database=$db;Maximum Pool Size=64"
  local bench=(dotnet src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll) work="$DATA_DIR/bench-isolation"
  "${bench[@]}" seed-similar --connection "$cs" --manifest models/tiny/manifest.json --items "$items"
  "${bench[@]}" isolation-inputs --images "$CLIPART" --out "$work"
  /usr/bin/python3 -c 'import zipfile,sys; zipfile.ZipFile(sys.argv[1], "w").close()' "$work/empty.zip"
  dotnet build src/Similarity.Api -c Release -nologo -v q >&2
  cat >"$work/similar.lua" <<LUA
math.randomseed(42)
request = function() return wrk.format("GET", string.format("/similar/b-%06d?k=10", math.random(0, $items - 1))) end
LUA
  local url=http://127.0.0.1:18095 multipart="multipart/form-data; boundary=similarity-bench-boundary"
  local hey_url="$url/similar/b-$(printf %06d $((items / 2)))?k=10"
  # "all limits lifted" is the service as it was before it had limits; "one client lifted" takes the flood as if
  # it came from many addresses, so only the shared capacity and the decode limits hold it.
  # "flood elsewhere" is the control: the same flood sent to another process that refuses it at once, so what it
  # costs /similar is this machine's cores shared with the flood's own client, not the service's work.
  local -a configs=("all limits lifted" "one client lifted" "defaults" "flood elsewhere")
  [ -z "$only" ] || configs=("$only")
  local -A settings=(
    ["all limits lifted"]="--Similarity:RateLimits:PerClientBurst=1000000 --Similarity:RateLimits:PerClientPerSecond=1000000 --Similarity:RateLimits:EncoderConcurrency=10000 --Similarity:RateLimits:EncoderQueue=100000 --Similarity:Inference:MaxQueuedItems=100000 --Similarity:Limits:MaxDecodedBytes=17179869184 --Similarity:Limits:MaxConcurrentDecodes=256"
    ["one client lifted"]="--Similarity:RateLimits:PerClientBurst=1000000 --Similarity:RateLimits:PerClientPerSecond=1000000"
    ["defaults"]=""
    ["flood elsewhere"]=""
  )
  local rows="" summary="" config round
  hey_statuses() { awk '/^Status code distribution/{on=1; next} on && /\[[0-9]+\]/{gsub(/[\[\]]/, "", $1); printf "%s %s\n", $1, $2} on && /^$/{on=0}' "$@"; }
  median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
  for config in "${configs[@]}"; do
    # shellcheck disable=SC2086 # the settings are words on purpose
    # The live /similar path, as measured before the neighbour lists (whose worker would otherwise share the cores).
    bench_service_start "$cs" "$ROOT/models/tiny/manifest.json" "$url" "$DATA_DIR/bench-isolation-api.log" --Similarity:Search:ListSize=0 ${settings[$config]}
    local target=$url control=""
    if [ "$config" = "flood elsewhere" ]; then
      "${bench[@]}" serve-pictures --zip "$work/empty.zip" --port 18098 >"$DATA_DIR/bench-isolation-control.log" 2>&1 &
      control=$!
      target=http://127.0.0.1:18098
      until curl -s -o /dev/null "$target/"; do sleep 0.2; done
    fi
    log "$config: warm-up ${warmup}s (/similar and the flood), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    hey -z "${warmup}s" -c 8 -m POST -T "$multipart" -D "$work/embed-jpeg.body" "$target/embed" >/dev/null &
    local flood=$!
    wrk -t2 -c16 -d"${warmup}s" -s "$work/similar.lua" "$url" >/dev/null
    wait $flood # (a bare wait would wait for the service too)
    local alone=() flooded=() ratios=() load
    load=$(cut -d' ' -f1 /proc/loadavg)
    rm -f "$work"/flood-*.txt "$work"/similar-*.txt
    for round in $(seq "$rounds"); do
      log "$config: round $round/$rounds — peak, alone at half the peak, then flooded at the same rate; ${seconds}s each"
      wrk -t2 -c16 -d"${seconds}s" -s "$work/similar.lua" "$url" >"$work/wrk.txt"
      local half
      half=$(awk '/Requests\/sec/{printf "%d", $2 / 2}' "$work/wrk.txt")
      hey -z "${seconds}s" -c 8 -q $((half / 8)) "$hey_url" >"$work/similar-alone-$round.txt"
      hey -z "$((seconds + 4))s" -c 32 -m POST -T "$multipart" -D "$work/embed-jpeg.body" "$target/embed" >"$work/flood-jpeg-$round.txt" &
      local jpegs=$!
      hey -z "$((seconds + 4))s" -c 8 -m POST -T "$multipart" -D "$work/embed-png.body" "$target/embed" >"$work/flood-png-$round.txt" &
      local bombs=$!
      sleep 2 # the flood is under way before /similar is measured
      hey -z "${seconds}s" -c 8 -q $((half / 8)) "$hey_url" >"$work/similar-flooded-$round.txt"
      wait $jpegs $bombs
      local a f
      a=$(awk '/ 99% in/{printf "%.1f", $3 * 1000}' "$work/similar-alone-$round.txt")
      f=$(awk '/ 99% in/{printf "%.1f", $3 * 1000}' "$work/similar-flooded-$round.txt")
      alone+=("$a"); flooded+=("$f"); ratios+=("$(awk -v a="$a" -v f="$f" 'BEGIN{printf "%.2f", f / a}')")
      rows+="| $config | $round | $half req/s | $a ms | $f ms | ${ratios[-1]} |"$'\n'
    done
    local peak_rss statuses similar_5xx
    peak_rss=$(awk '/VmHWM/{printf "%d", $2 / 1024}' "/proc/$BENCH_API_PID/status")
    bench_service_stop
    [ -z "$control" ] || kill "$control"
    statuses=$(hey_statuses "$work"/flood-jpeg-*.txt | awk '{n[$1]+=$2} END{for (s in n) printf "%s: %d, ", s, n[s]}')
    statuses+=" bomb $(hey_statuses "$work"/flood-png-*.txt | awk '{n[$1]+=$2} END{for (s in n) printf "%s: %d, ", s, n[s]}')"
    similar_5xx=$(hey_statuses "$work"/similar-*.txt | awk '$1 >= 500{n+=$2} END{print n + 0}')
    summary+="| $config | $(median "${alone[@]}") ms | $(median "${flooded[@]}") ms | $(median "${ratios[@]}") | $peak_rss MiB | $similar_5xx | ${statuses%, } | $load |"$'\n'
  done
  cat <<TABLE
$items items (tiny models, $(psql_admin "SELECT vector_dims(embedding) FROM items LIMIT 1" "$db")-d); per configuration a fresh service, ${warmup}s warm-up, $rounds rounds of ${seconds}s.

| configuration | round | /similar rate | p99 alone | p99 flooded | flooded / alone |
|---|---:|---:|---:|---:|---:|
${rows}
| configuration | p99 alone (median) | p99 flooded (median) | flooded / alone (median) | service peak RSS | /similar 5xx | flood answers (JPEG; bomb) | load average before |
|---|---:|---:|---:|---:|---:|---|---:|
${summary}
TABLE
}

# ---------------------------------------------------------------- docker

DOCKER_DIR=$DATA_DIR/docker
STANDIN=similarity-standin

# The images' official bases, and the local stand-ins used where those cannot be pulled (docker/standins/README.md).
OFFICIAL_SDK=mcr.microsoft.com/dotnet/sdk:10.0
OFFICIAL_RUNTIME=mcr.microsoft.com/dotnet/aspnet:10.0
OFFICIAL_POSTGRES=postgres:15-bookworm

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"; else docker-compose "$@"; fi
}

# dockerd without a bridge network or iptables rules: containers get the host's network (loopback ports) or none,
# and no private address is ever made or contacted.
docker_daemon() {
  ensure_apt_packages docker.io docker-compose debootstrap
  docker info >/dev/null 2>&1 && return 0
  mkdir -p "$DOCKER_DIR"
  log "starting dockerd (--bridge=none --iptables=false; its log: .data/docker/dockerd.log)"
  (setsid dockerd --bridge=none --iptables=false >"$DOCKER_DIR/dockerd.log" 2>&1 &)
  local waited=0
  until docker info >/dev/null 2>&1; do
    sleep 1; waited=$((waited + 1))
    ((waited < 60)) || { tail -20 "$DOCKER_DIR/dockerd.log" >&2; die "dockerd did not start"; }
  done
}

docker_has() { docker image inspect "$1" >/dev/null 2>&1; }

# Pulls an official base, or says it cannot (no registry serves it): a minute at most.
docker_pullable() { docker_has "$1" || timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

standin_base() {
  docker_has "$STANDIN/debian:bookworm" && return 0
  local root="$DOCKER_DIR/debian-root"
  log "making a Debian bookworm root with debootstrap (minbase) for the stand-in images"
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" "$(debian_mirror)" >"$DOCKER_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$DOCKER_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # The machine's own extra CAs (its TLS to NuGet may pass through one): ca-certificates, installed by the stand-ins
  # above this root, adds them to the trust store as it does on the host.
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$STANDIN/debian:bookworm" >/dev/null
  rm -rf "$root"
}

# A stand-in is labelled with a hash of its definitions in docker/standins/: an edited one is rebuilt, an unchanged
# one kept.
standin_revision() { cat docker/standins/*.Dockerfile docker/standins/*.sh | sha256sum | cut -c1-16; }
standin_current() {
  [ "$(docker image inspect -f '{{index .Config.Labels "similarity.standins"}}' "$1" 2>/dev/null)" = "$(standin_revision)" ]
}

standin_build() {
  local name=$1 dockerfile=$2 context=$3
  docker build -q --network host -f "$dockerfile" --build-arg "BASE_IMAGE=$STANDIN/debian:bookworm" \
    --label "similarity.standins=$(standin_revision)" -t "$name" "$context" >/dev/null
  rm -rf "$context"
}

# The stand-ins for the three official bases, each made once: the machine's .NET and pgvector on Debian bookworm.
docker_standins() {
  standin_base
  local context
  if ! standin_current "$STANDIN/dotnet-sdk:10.0"; then
    log "stand-in for $OFFICIAL_SDK: the machine's .NET SDK"
    context="$DOCKER_DIR/context-sdk"; rm -rf "$context"; mkdir -p "$context"
    cp -a "$(dirname "$(readlink -f "$(command -v dotnet)")")" "$context/dotnet"
    standin_build "$STANDIN/dotnet-sdk:10.0" docker/standins/sdk.Dockerfile "$context"
  fi
  if ! standin_current "$STANDIN/dotnet-aspnet:10.0"; then
    log "stand-in for $OFFICIAL_RUNTIME: the machine's .NET and ASP.NET Core runtimes"
    local dotnet_root
    dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
    context="$DOCKER_DIR/context-aspnet"; rm -rf "$context"; mkdir -p "$context/dotnet"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/shared" "$context/dotnet/"
    standin_build "$STANDIN/dotnet-aspnet:10.0" docker/standins/aspnet.Dockerfile "$context"
  fi
  if ! standin_current "$STANDIN/postgres:15-bookworm"; then
    log "stand-in for $OFFICIAL_POSTGRES: Debian's PostgreSQL 15 and the machine's pgvector as a package"
    ensure_apt_packages; ensure_pgvector # the machine's pgvector, as ./similarity.sh db start provisions it
    context="$DOCKER_DIR/context-postgres"; rm -rf "$context"
    local package="$context/package" version
    version=$(pgvector_installed_version)
    mkdir -p "$package/DEBIAN" "$package/usr/lib/postgresql/15/lib" "$package/usr/share/postgresql/15/extension" "$context/apt"
    cp "$PG_BIN/../lib/vector.so" "$package/usr/lib/postgresql/15/lib/"
    cp "$("$PG_BIN/pg_config" --sharedir)"/extension/vector* "$package/usr/share/postgresql/15/extension/"
    cat >"$package/DEBIAN/control" <<CONTROL
Package: postgresql-15-pgvector
Version: $version-1.similarity
Architecture: amd64
Depends: postgresql-15
Maintainer: Similarity <stand-in@localhost>
Description: pgvector $version as installed on the machine that built this stand-in
CONTROL
    dpkg-deb --build --root-owner-group "$package" "$context/apt/postgresql-15-pgvector_${version}_amd64.deb" >/dev/null
    rm -rf "$package"
    (cd "$context/apt" && dpkg-scanpackages . >Packages 2>/dev/null)
    cp docker/standins/postgres-entrypoint.sh "$context/"
    standin_build "$STANDIN/postgres:15-bookworm" docker/standins/postgres.Dockerfile "$context"
  fi
}

# Builds the images from the real Dockerfiles: against the official bases where they can be pulled, else against
# the stand-ins. The GPU image's last stage needs a CUDA base; where none can be pulled its build stage (restore and
# publish with the ONNX Runtime GPU package) is built alone.
OFFICIAL_CUDA=nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04

docker_build() {
  docker_daemon
  local sdk=$OFFICIAL_SDK runtime=$OFFICIAL_RUNTIME postgres=$OFFICIAL_POSTGRES
  if docker_pullable "$sdk" && docker_pullable "$runtime" && docker_pullable "$postgres"; then
    log "building against the official base images"
  else
    log "the official base images cannot be pulled here: building against local stand-ins (docker/standins/README.md)"
    docker_standins
    sdk=$STANDIN/dotnet-sdk:10.0 runtime=$STANDIN/dotnet-aspnet:10.0 postgres=$STANDIN/postgres:15-bookworm
  fi
  local start=$SECONDS
  log "similarity-api (docker/Dockerfile)"
  docker build --network host -f docker/Dockerfile --build-arg "SDK_IMAGE=$sdk" --build-arg "RUNTIME_IMAGE=$runtime" -t similarity-api .
  log "similarity-db (docker/db.Dockerfile)"
  docker build --network host -f docker/db.Dockerfile --build-arg "POSTGRES_IMAGE=$postgres" -t similarity-db .
  log "built in $((SECONDS - start)) s; similarity-api is $(($(docker image inspect -f '{{.Size}}' similarity-api) / 1048576)) MiB"
  local gpu=(docker build --network host -f docker/Dockerfile.gpu --build-arg "SDK_IMAGE=$sdk" --build-arg "RUNTIME_IMAGE=$runtime")
  if docker_pullable "$OFFICIAL_CUDA"; then
    log "similarity-api-gpu (docker/Dockerfile.gpu)"
    "${gpu[@]}" --build-arg "CUDA_IMAGE=$OFFICIAL_CUDA" -t similarity-api-gpu .
  else
    log "similarity-api-gpu: $OFFICIAL_CUDA cannot be pulled here; building docker/Dockerfile.gpu's build stage only (the GPU package restored and published)"
    "${gpu[@]}" --target build -t similarity-api-gpu-build .
  fi
}

# The compose stack as a user starts it, on loopback ports with host networking: health, items with pictures,
# /similar, an import, the OpenAPI document; then stopped and removed. Non-zero on any failure.
docker_smoke() {
  docker_daemon
  docker_has similarity-api && docker_has similarity-db || die "no images: run ./similarity.sh docker build first"
  mkdir -p "$DOCKER_DIR"
  local env_file="$DOCKER_DIR/smoke.env" api_port=18480 key
  key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  (umask 077 && cat >"$env_file" <<ENV
POSTGRES_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
SIMILARITY_ADMIN_API_KEY=$key
SIMILARITY_DB_PORT=55433
SIMILARITY_API_PORT=$api_port
ENV
  )
  # The stack exactly as compose merges the two files, less the api's published ports: with host networking the
  # engine ignores them, but Debian's Compose v1 refuses them ("host" network_mode is incompatible with port_bindings).
  local stack="$DOCKER_DIR/smoke-compose.yaml"
  (umask 077 && compose --env-file "$env_file" -f docker/compose.yaml -f docker/compose.host.yaml config |
    /usr/bin/python3 -c '
import sys, yaml
stack = yaml.safe_load(sys.stdin)
for service in stack["services"].values():
    if service.get("network_mode") == "host":
        service.pop("ports", None)
yaml.safe_dump(stack, sys.stdout, sort_keys=False)' >"$stack") || die "compose config failed"
  # Global, not local: the EXIT trap below runs after this function has returned.
  SMOKE_STACK=(-p similarity-smoke -f "$stack")
  local url=http://127.0.0.1:$api_port
  # On a failure the containers' last words, then (always) the stack and its volumes removed.
  trap 'smoke_rc=$?; [ $smoke_rc = 0 ] || compose "${SMOKE_STACK[@]}" logs --tail 40 >&2 || true; compose "${SMOKE_STACK[@]}" down -v >/dev/null 2>&1 || true' EXIT
  compose "${SMOKE_STACK[@]}" down -v >/dev/null 2>&1 || true
  local start
  start=$(date +%s.%N)
  compose "${SMOKE_STACK[@]}" up -d --no-build
  docker_wait_ready "$url" || die "the stack was not ready after 5 minutes"
  log "compose first start: ready in $(seconds_since "$start") s (the database initialised, migrations applied, models loaded)"

  ensure_apt_packages openclipart-png
  local pictures=(/usr/share/openclipart/png/food/fruit/*.png)
  local i
  for i in 0 1 2; do
    curl -fsS -o /dev/null -X PUT -H "X-Api-Key: $key" -F "title=Fruit $i" -F category=fruit -F "image=@${pictures[$i]}" "$url/items/smoke-$i" \
      || die "PUT /items/smoke-$i failed"
  done
  # Each answer is read whole before grep looks at it: grep -q stops early, and curl then fails writing (pipefail).
  local answer
  answer=$(curl -fsS "$url/similar/smoke-0?k=2") || die "GET /similar/smoke-0 failed"
  grep -q '"smoke-1"\|"smoke-2"' <<<"$answer" || die "/similar/smoke-0 does not list the other items: $answer"
  answer=$(curl -fsS -o /dev/null -w '%{content_type}' "$url/items/smoke-0/image?size=thumb") || die "no stored picture"
  [[ $answer == image/jpeg* ]] || die "the stored picture is $answer, not a JPEG"
  printf 'sku,title,category\nsmoke-import-1,Red apple,fruit\nsmoke-import-2,Green pear,fruit\n' >"$DOCKER_DIR/smoke.csv"
  local job id status
  id=$(curl -fsS -H "X-Api-Key: $key" -F "catalog=@$DOCKER_DIR/smoke.csv" "$url/imports" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || die "POST /imports failed"
  for i in $(seq 1 120); do
    job=$(curl -fsS -H "X-Api-Key: $key" "$url/imports/$id")
    status=$(printf '%s' "$job" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    [ "$status" = succeeded ] && break
    case "$status" in failed|cancelled|succeeded_with_errors) die "the import ended $status: $job" ;; esac
    sleep 1
  done
  [ "$status" = succeeded ] || die "the import did not finish in 2 minutes: $job"
  # Migration 0008's trigger queued every item above; the neighbour-list worker must have drained the queue:
  # /similar answers from the item's list, and /health/ready (which reads the worker's state) says Healthy.
  for i in $(seq 1 60); do
    answer=$(curl -fsS "$url/similar/smoke-0?k=2") || die "GET /similar/smoke-0 failed"
    grep -q '"source":"precomputed"' <<<"$answer" && break
    sleep 1
  done
  grep -q '"source":"precomputed"' <<<"$answer" || die "/similar/smoke-0 never came from its neighbour list in a minute: $answer"
  answer=$(curl -sS "$url/health/ready") || die "GET /health/ready failed"
  grep -q '^{"status":"Healthy"' <<<"$answer" || die "/health/ready is not Healthy: $answer"
  answer=$(curl -fsS "$url/swagger/v1/swagger.json") || die "GET /swagger/v1/swagger.json failed"
  grep -q '"openapi"' <<<"$answer" || die "no OpenAPI document"
  # The container's own healthcheck (every 10 s) may not have run yet: a minute for it to say healthy.
  local health container
  container=$(compose "${SMOKE_STACK[@]}" ps -q api)
  for i in $(seq 1 60); do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$container")
    [ "$health" = starting ] || break
    sleep 1
  done
  [ "$health" = healthy ] || die "the API container's own healthcheck says $health: $(docker inspect -f '{{json .State.Health.Log}}' "$container")"

  # The API container's own start-up, the database already up and migrated: container start to /health/ready.
  compose "${SMOKE_STACK[@]}" stop api >/dev/null 2>&1
  start=$(date +%s.%N)
  compose "${SMOKE_STACK[@]}" start api >/dev/null 2>&1
  docker_wait_ready "$url" || die "the API was not ready after a restart"
  log "API container start: ready in $(seconds_since "$start") s"
  log "smoke passed: health, 3 items with pictures, /similar, an import, the neighbour lists, the OpenAPI document, the container healthcheck"
}

docker_wait_ready() {
  local waited=0
  until curl -fsS -o /dev/null "$1/health/ready" 2>/dev/null; do
    sleep 0.2; waited=$((waited + 1))
    ((waited < 1500)) || return 1
  done
}

seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}'; }

cmd_docker() {
  case "${1:-}" in
    build) docker_build ;;
    smoke) docker_smoke ;;
    *) die "usage: ./similarity.sh docker build|smoke" ;;
  esac
}

usage() {
  cat <<USAGE
usage: ./similarity.sh COMMAND
  run                 provision what is missing, then serve the API (default http://127.0.0.1:8080, Swagger at /swagger)
  demo                run with 3 000 openclipart drawings imported as its catalog (a second run reuses them); prints the pages' address
  test [ARGS]         provision what is missing, then run every test (ARGS go to dotnet test, e.g. --filter)
  lint                the live OpenAPI document through Spectral (spectral:oas + OWASP ruleset); non-zero on any error
  bench encoders      full-size models: pipeline items/s vs the bare ONNX session, batch 1 and 32
  bench images        decode+resize: NetVips vs SkiaSharp (BenchmarkDotNet)
  bench similar       /similar under load on a seeded catalog (--items N, default 100000; --warmup S, --rounds N, --seconds S): service vs pgbench, recall@10
  bench import        catalog import end to end vs the bare encoders (--items N, default 5000); memory at N and 10×N rows;
                      --source url: the same catalog with pictures by URL from a local server vs in a zip (--items N, default 2000)
  bench upload        seconds to POST /imports' 202 for 1 row and --rows N (default 5000000) vs the transfer alone; the job's checks after
  bench isolation     /similar p99 alone and under an /embed flood (JPEGs and 16-bit PNG bombs), tiny models (--rounds N, --seconds S, --only defaults)
  bench pages         the item page (HTML, scripts, similar items, 12 thumbnails) p95 at --items N (default 10000); picture storage per 100 000 items; docs/item-page.png
  bench quality       retrieval quality of models/clipart on the openclipart test split through the HTTP API, with baselines
  import CATALOG [--images ZIP] [--format native|merchant-center|shopify] [--mapping JSON|@FILE] [--missing-image skip|textOnly]
         [--url URL] [--key KEY]  upload a catalog to a running service and follow the job (--help: exit codes)
  docker build        the API and database images from docker/ (against local stand-ins where the official bases cannot be pulled)
  docker smoke        the compose stack on loopback ports (host networking): health, items, /similar, an import, Swagger; then removed
  db start|stop|status  the project's private PostgreSQL cluster
  models [tiny|full]  generate the seeded ONNX models (tiny by default)
  models train        retrain the default model set (models/clipart) on openclipart from scratch, seeded; prints test-split figures
  models deploy DIR   upload a model set's folder to the running service as the candidate (PUT /models/NAME)
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
      start) db_start; db_status ;;
      stop) db_stop ;;
      status) db_status ;;
      *) die "usage: ./similarity.sh db start|stop|status" ;;
    esac ;;
  models)
    case "${2:-tiny}" in
      train) shift 2; cmd_models_train "$@" ;;
      deploy) shift 2; cmd_models_deploy "$@" ;;
      tiny|full) ensure_models "${2:-tiny}"; echo "models/${2:-tiny}/manifest.json" ;;
      *) die "usage: ./similarity.sh models [tiny|full|train]" ;;
    esac ;;
  pgvector) APT_PACKAGES=(postgresql-server-dev-15 build-essential dpkg-dev curl ca-certificates); ensure_apt_packages; ensure_pgvector ;;
  help|-h|--help) usage ;;
  *) usage; exit 2 ;;
esac
