#!/usr/bin/env bash
# make demo: the main job on the embedded default (self-hosted PostgreSQL), one command.
#
# Starts a local PostgreSQL 15 with the platform's sample dataset, sets up WAL archiving through
# dr, takes a base backup, writes more data, records the moment (and a manifest of the database
# at that moment), then a disaster: an accidental DELETE of most of a table, then more writes.
# dr restores to the moment before the disaster as a new server, dr verify checks it against the
# manifest (exact schema and row counts), a report shows the recovery time by phase and how close
# the restored data is to the chosen moment, and the restored server is torn down.
# Everything runs in a temp folder; every server is stopped on exit, also on failure or Ctrl-C.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DR=${DR:-$PWD/.build/debug/dr}
[ -x "$DR" ] || { echo "demo: $DR is missing; run make demo (it builds first)" >&2; exit 2; }
demo_start=$(date +%s.%N)

work=$(mktemp -d /tmp/dr-demo.XXXXXX)
chmod 755 "$work"
cleanup() {
  for d in "$work"/restores/*/data; do
    [ -f "$d/postmaster.pid" ] && as_postgres "$(pg_bindir)/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  stop_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
bindir=$(pg_bindir)
port=$(free_port)
password="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

step "Starting PostgreSQL 15 on 127.0.0.1:$port (in $work)"
start_postgres "$work/pg" "$port" "$password"
# libpq reads the password from PGPASSWORD: it never appears in dr.yml or on a command line.
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@" </dev/null; }
"$bindir/createdb" platform
psql -d platform -f scripts/sample/platform.sql
psql -d platform -At -c "SELECT 'loaded the platform sample: ' || (SELECT count(*) FROM public.users) || ' users, ' || (SELECT count(*) FROM public.posts) || ' posts, ' || (SELECT count(*) FROM analytics.events) || ' events'"

mkdir -p "$work/repo" "$work/dr-repo"
as_root_chown() { [ "$(id -u)" = 0 ] && chown postgres: "$@" || true; }
as_root_chown "$work/repo"
cat >"$work/dr.yml" <<YML
targets:
  platform-db:
    provider: postgres
    conninfo: "host=127.0.0.1 port=$port dbname=platform user=postgres"
    repository: repo
    dr_repository: dr-repo
    restore_root: restores
    retention: { weekly: 4 }
YML
export DR_CONFIG="$work/dr.yml"
echo "dr.yml:"; sed 's/^/  /' "$work/dr.yml"

step "dr archive setup platform-db --apply   (then a restart, as it says)"
"$DR" archive setup platform-db --apply
as_postgres "$bindir/pg_ctl" -D "$work/pg/data" -w -m fast restart >/dev/null

step "dr snapshot platform-db   (a base backup into the repository)"
"$DR" snapshot platform-db

step "More writes after the backup"
psql -d platform -c "INSERT INTO public.posts (author_id, body) SELECT 1 + g % 1000, 'after the backup ' || g FROM generate_series(1, 2000) g" \
                 -c "INSERT INTO analytics.events (user_id, kind, occurred_at) SELECT 1 + g % 1000, 'view', now() FROM generate_series(1, 3000) g"

step "Recording the moment, and a manifest of the database at that moment"
"$DR" verify capture --db "dbname=platform" --out "$work/manifest.json"
moment=$(psql -d platform -At -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
echo "moment before the disaster: $moment"
sleep 0.2

step "Disaster: an accidental DELETE of most of public.posts, then more writes"
psql -d platform -c "DELETE FROM public.posts WHERE id % 10 <> 0" \
                 -c "INSERT INTO analytics.events (user_id, kind, occurred_at) SELECT 1, 'after the disaster', now() FROM generate_series(1, 500) g"
psql -d platform -At -c "SELECT 'posts left: ' || count(*) FROM public.posts"
# The WAL with the disaster in it is archived at the next segment switch (archive_timeout fits the 5 min RPO: 270 s).
psql -d platform -At -c "SELECT 'archived through ' || pg_walfile_name(pg_switch_wal())" >/dev/null
sleep 0.5

step "dr status platform-db"
"$DR" status platform-db

step "dr restore platform-db --point-in-time $moment --as platform-pitr"
"$DR" restore platform-db --point-in-time "$moment" --as platform-pitr --output json >"$work/restore.json"
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$work/restore.json" "$1"; }
rport=$(json 'd["endpoint"]["port"]')
echo "restored server: $(json 'd["endpoint"]["host"] + ":" + str(d["endpoint"]["port"])') ($(json 'd["conninfo"]'))"

step "dr verify --db <restored> --manifest manifest.json   (exact schema and row counts)"
set +e
"$DR" verify --db "host=127.0.0.1 port=$rport dbname=platform user=postgres" --manifest "$work/manifest.json"
verified=$?
set -e

step "Report"
posts_restored=$(PGPORT=$rport psql -d platform -At -c "SELECT count(*) FROM public.posts")
python3 - "$moment" "$work/restore.json" <<'PY'
import sys, json, datetime
def parse(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
moment, r = sys.argv[1], json.load(open(sys.argv[2]))
print("recovery time by phase:")
for p in r["phases"]:
    print(f"  {p['name']:<10}{p['seconds'] * 1000:7.0f} ms")
print(f"  {'total':<10}{sum(p['seconds'] for p in r['phases']) * 1000:7.0f} ms")
print(f"chosen moment:          {moment}")
print(f"last replayed commit:   {r['recovered_to']}")
print(f"backup used:            {r['snapshot']}")
gap = (parse(moment) - parse(r["recovered_to"])).total_seconds()
print(f"restored data is {gap * 1000:.0f} ms before the chosen moment: the last commit at or before it"
      if gap >= 0 else f"restored data is {-gap * 1000:.0f} ms after the chosen moment")
PY
echo "posts: $posts_restored restored (the DELETE left $(psql -d platform -At -c 'SELECT count(*) FROM public.posts') on the source)"
echo "dr verify: exit $verified (0 = schema and row counts match the manifest)"

step "dr teardown platform-pitr"
"$DR" teardown platform-pitr

elapsed=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$demo_start")
step "Done in ${elapsed}s"
[ "$verified" = 0 ] || { echo "demo: FAILED: the restored database did not match the manifest" >&2; exit 1; }
cat <<'TXT'
Nothing is left running. Where to look next:
  README.md            dr.yml for both providers, and every command with an example
  dr --help            the commands; dr restore --help, dr status --help, ...
  Sources/DRProcedures/SelfHosted/   how the base backup, WAL archive and restore work
  make test / make bench             the integration tests and the benchmarks (BENCHMARKS.md)
TXT
