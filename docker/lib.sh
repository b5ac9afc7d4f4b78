# Shared by docker/build.sh and docker/smoke.sh: messages, compose, and a dockerd of our own.
# ./similarity.sh docker build|smoke sets DATA_DIR (and, for build, PG_BIN and DEBIAN_MIRROR) after provisioning the packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${DATA_DIR:?run through ./similarity.sh docker build|smoke}"

log() { printf '\033[1;34m[similarity]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[similarity]\033[0m %s\n' "$*" >&2; exit 1; }
seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}'; }

DOCKER_DIR=$DATA_DIR/docker
STANDIN=similarity-standin

# The images' official bases, and the local stand-ins used where those cannot be pulled (docker/standins/README.md).
OFFICIAL_SDK=mcr.microsoft.com/dotnet/sdk:10.0
OFFICIAL_RUNTIME=mcr.microsoft.com/dotnet/aspnet:10.0
OFFICIAL_POSTGRES=postgres:15-bookworm
OFFICIAL_CUDA=nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"; else docker-compose "$@"; fi
}

# dockerd without a bridge network or iptables rules: containers get the host's network (loopback ports) or none,
# and no private address is ever made or contacted.
docker_daemon() {
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

