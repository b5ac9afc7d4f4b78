#!/usr/bin/env bash
# ./similarity.sh docker build: the images from the real Dockerfiles, against the official bases where they can be
# pulled, else against local stand-ins made from this machine's .NET and pgvector (docker/standins/README.md).
# The script has installed docker.io, docker-compose and debootstrap, and pgvector (PG_BIN: its PostgreSQL).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${PG_BIN:?}" "${DEBIAN_MIRROR:?}"

standin_base() {
  docker_has "$STANDIN/debian:bookworm" && return 0
  local root="$DOCKER_DIR/debian-root"
  log "making a Debian bookworm root with debootstrap (minbase) for the stand-in images"
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" >"$DOCKER_DIR/debootstrap.log" 2>&1 \
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
    context="$DOCKER_DIR/context-postgres"; rm -rf "$context"
    local package="$context/package" version
    version=$(sed -nE "s/^default_version = '([^']+)'/\\1/p" "$("$PG_BIN/pg_config" --sharedir)/extension/vector.control")
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

docker_build
