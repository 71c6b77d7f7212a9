#!/bin/bash
# Entrypoint of the offline Postgres base image (fnguard/base-postgres:local): on first start it creates
# the cluster the way the official postgres image does for POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB (password auth over TCP), then runs the server in the foreground, listening on all
# addresses of the container. The image has bash but no other tools: builtins only.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "entrypoint: POSTGRES_PASSWORD must be set" >&2
    exit 1
  fi
  pwfile=/tmp/pgpass.$$
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C >/dev/null
  : >"$pwfile"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode creates the database without a server listening anywhere yet.
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "entrypoint: created cluster for user $user, database $db"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
