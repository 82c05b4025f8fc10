#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster, then remove the cluster whatever happens.
#
#   tests/pg.sh .venv/bin/python -m pytest -m "not browser"
#
# The command gets --db-url=postgresql+psycopg://postgres@127.0.0.1:PORT/passerelle_test
# appended. PostgreSQL refuses to run as root, so as root the cluster belongs to the
# `postgres` OS user; auth is trust, and it listens on 127.0.0.1 and a socket in its own
# temp folder only. fsync is off: the data is thrown away.
set -euo pipefail

# PG_PORT, or the first port from 15432 that can be bound. It stays below the kernel's
# ephemeral range (32768 and up), where busy clients such as the benchmark hold ports.
port="${PG_PORT:-$(python3 - <<'PY'
import socket
for port in range(15432, 15500):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
)}"
[ -n "$port" ] || { echo "tests/pg.sh: no free port between 15432 and 15499" >&2; exit 1; }

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "tests/pg.sh: PostgreSQL server binaries not found (make system-deps installs them)" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/passerelle-pg.XXXXXX)"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_pg() { (cd "$dir" && runuser -u postgres -- "$@"); }
else
  as_pg() { (cd "$dir" && "$@"); }
fi

cleanup() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres passerelle_test

echo "tests/pg.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@" --db-url="postgresql+psycopg://postgres@127.0.0.1:$port/passerelle_test"
