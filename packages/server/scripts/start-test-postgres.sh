#!/bin/sh
# Starts a throwaway PostgreSQL 15 for the store and queue contract suites, and prints the
# FAXWIRE_TEST_PG_URL to export. Usage: start-test-postgres.sh [start|stop]  (PGPORT, PGDATA override)
# Runs the server as the "postgres" system user, because initdb refuses to run as root.
set -eu
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGDATA=${PGDATA:-/tmp/faxwire-pgdata}
PGPORT=${PGPORT:-54329}
SOCKDIR=${PGSOCKDIR:-/tmp}
ACTION=${1:-start}

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$ACTION" = "stop" ]; then
  as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast stop
  exit 0
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  if [ "$(id -u)" = "0" ]; then chown postgres "$PGDATA"; fi
  as_pg "$BIN/initdb" -D "$PGDATA" -U postgres -A trust >/dev/null
fi
if ! as_pg "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  # fsync off: this database holds only test data, and the suites run faster without it.
  as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $PGPORT -k $SOCKDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null
fi
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='faxwire_test'" \
  | grep -q 1 || as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres faxwire_test
echo "export FAXWIRE_TEST_PG_URL=postgres://postgres@127.0.0.1:$PGPORT/faxwire_test"
