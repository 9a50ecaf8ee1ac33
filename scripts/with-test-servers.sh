#!/usr/bin/env bash
# Runs a command with the servers the integration tests need, and stops them afterwards,
# also when the command fails or is interrupted:
#   - a PostgreSQL 15 server on 127.0.0.1 (DR_TEST_PG_CONNINFO)
# Tests read these variables and fail loudly when one is missing; they never skip.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/dr-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  stop_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_port=$(free_port)
pg_password="dr-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start_postgres "$work/pg" "$pg_port" "$pg_password"
export DR_TEST_PG_CONNINFO="host=127.0.0.1 port=$pg_port dbname=postgres user=postgres password=$pg_password"
export DR_TEST_PG_BINDIR="$(pg_bindir)"
export DR_TEST_WORK="$work"
echo "test servers: postgres on 127.0.0.1:$pg_port" >&2

"$@"
