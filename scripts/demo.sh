#!/usr/bin/env bash
# make demo (interim, until the self-hosted restore lands): starts a throwaway PostgreSQL,
# loads the platform's sample dataset, captures a manifest, makes an intact copy and a damaged
# copy, and shows `dr verify` passing on the first (exit 0) and catching the damage (exit 1).
# The server is stopped and its folder removed on exit, also on failure or Ctrl-C.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DR=${DR:-.build/debug/dr}
[ -x "$DR" ] || { echo "demo: $DR is missing; run make demo (it builds first)" >&2; exit 2; }

work=$(mktemp -d /tmp/dr-demo.XXXXXX)
chmod 755 "$work"
cleanup() { stop_postgres "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
password="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
bindir=$(pg_bindir)
# The narrative goes to stdout with dr's own output, in order; NO_COLOR is honoured.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

step "Starting PostgreSQL 15 on 127.0.0.1:$port (in $work)"
start_postgres "$work/pg" "$port" "$password"
# libpq reads the password from PGPASSWORD: it never appears on a command line.
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@" </dev/null; }

step "Loading the platform sample (scripts/sample/platform.sql) into database 'platform'"
"$bindir/createdb" platform
psql -f scripts/sample/platform.sql -d platform
psql -d platform -c "SELECT 'users' AS table, count(*) FROM public.users UNION ALL SELECT 'posts', count(*) FROM public.posts UNION ALL SELECT 'events', count(*) FROM analytics.events"

step "Capturing a manifest: dr verify capture --db dbname=platform --out manifest.json"
"$DR" verify capture --db "dbname=platform" --out "$work/manifest.json"
echo "manifest: $(wc -c <"$work/manifest.json") bytes, first lines:"
head -n 12 "$work/manifest.json"

step "Making an intact copy (platform_intact) and a damaged copy (platform_damaged)"
psql -d postgres -c "CREATE DATABASE platform_intact TEMPLATE platform" -c "CREATE DATABASE platform_damaged TEMPLATE platform"
psql -d platform_damaged -o /dev/null \
  -c "DELETE FROM public.comments WHERE id % 50 = 0" \
  -c "DROP INDEX public.posts_recent_public_idx" \
  -c "SELECT FROM setval('public.posts_id_seq', 10)" \
  -c "ALTER TABLE public.users ALTER COLUMN display_name SET DEFAULT 'anonymous'" \
  -c "TRUNCATE public.sessions"
echo "damage: deleted 2% of comments, dropped an index, rewound a sequence, changed a default, emptied the unlogged sessions table"

step "dr verify --db dbname=platform_intact --manifest manifest.json"
set +e
"$DR" verify --db "dbname=platform_intact" --manifest "$work/manifest.json"; intact=$?
step "dr verify --db dbname=platform_damaged --manifest manifest.json"
"$DR" verify --db "dbname=platform_damaged" --manifest "$work/manifest.json"; damaged=$?
step "dr verify --db dbname=platform_damaged --against dbname=platform --output junit (first lines)"
"$DR" verify --db "dbname=platform_damaged" --against "dbname=platform" --output junit | grep -m 6 -E "<failure|<testsuites"
set -e

step "Result"
echo "intact copy:  exit $intact (expected 0)"
echo "damaged copy: exit $damaged (expected 1)"
[ "$intact" = 0 ] && [ "$damaged" = 1 ] || { echo "demo: FAILED" >&2; exit 1; }
echo "demo: dr verify passed the intact copy and caught the damage."
