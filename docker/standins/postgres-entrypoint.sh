#!/bin/sh
# The stand-in postgres image's entry point, doing what the official image's does for this project: on a first start
# it initialises the cluster from POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB with a temporary server that
# listens on the Unix socket only; then it runs the server as postgres.
set -eu
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec runuser -u postgres -- "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
  user=${POSTGRES_USER:-postgres}
  password_file=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
  initdb -D "$PGDATA" -U "$user" --pwfile="$password_file" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c port=5432" -w start >/dev/null
  # initdb makes the database "postgres" only; POSTGRES_DB (default: the user's name) is created beside it.
  database=${POSTGRES_DB:-$user}
  if [ "$database" != postgres ]; then
    createdb -h /var/run/postgresql -U "$user" "$database"
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "initialised the cluster in $PGDATA"
fi
exec "$@"
