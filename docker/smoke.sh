#!/usr/bin/env bash
# ./similarity.sh docker smoke: the compose stack as a user starts it, checked end to end, then removed.
# The script has installed docker.io, docker-compose and openclipart-png.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

docker_smoke
