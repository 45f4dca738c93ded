#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on loopback as an unprivileged user and print its URL.
# Installs Debian's postgresql package when the server binaries are missing.
set -euo pipefail
port=${DUBAN_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  else
    sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
user=$(id -un)
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root
  user=duban_ci
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
fi
dir=$(mktemp -d /tmp/duban-pg.XXXXXX)
chown "$user" "$dir" 2>/dev/null || true
run() { if [ "$(id -un)" = "$user" ]; then "$@"; else (cd / && su "$user" -s /bin/sh -c "$(printf '%q ' "$@")"); fi; }
run "$bin/initdb" -D "$dir/data" -A trust -U duban -E UTF8 --locale=C.UTF-8 >&2
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >&2
echo "postgresql+psycopg://duban@127.0.0.1:$port/postgres"
