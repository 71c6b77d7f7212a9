#!/bin/bash
# Entrypoint of the offline Postgres base image (fnguard/base-postgres:local): on first start it creates
# the cluster the way the official postgres image does for POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB and POSTGRES_HOST_AUTH_METHOD (scram-sha-256 by default; md5, with passwords stored as md5
# too, for clients that predate SCRAM; or trust), then runs the server in the foreground, listening on
# all addresses of the container. The image has bash but no other tools: builtins only.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  case "$auth" in
    scram-sha-256 | md5) password=(--pwfile=/tmp/pgpass.$$ --set "password_encryption=$auth") ;;
    trust) password=() ;;
    *)
      echo "entrypoint: POSTGRES_HOST_AUTH_METHOD must be scram-sha-256, md5 or trust, not $auth" >&2
      exit 1
      ;;
  esac
  if [ "$auth" != trust ] && [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "entrypoint: POSTGRES_PASSWORD must be set" >&2
    exit 1
  fi
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >/tmp/pgpass.$$
  initdb -D "$PGDATA" -U "$user" "${password[@]}" -A "$auth" -E UTF8 --locale=C >/dev/null
  : >/tmp/pgpass.$$
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode creates the database without a server listening anywhere yet.
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "entrypoint: created cluster for user $user, database $db"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
