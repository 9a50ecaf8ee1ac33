#!/usr/bin/env bash
# make examples: the rendered examples in docs/examples/, from real drills.
#
# Starts a local PostgreSQL 15 (127.0.0.1, a free port, a temp folder), loads a small table,
# sets up WAL archiving through dr, takes a base backup, then runs four real drills: three pass
# (writes between them), one fails on real findings (verified exactly against a manifest taken
# before more rows were written). It keeps every drill's page, the history page
# (dr drill history --output html) and the status metrics, and screenshots two pages with
# headless Chromium. Every server is stopped on exit.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DR=${DR:-$PWD/.build/debug/dr}
[ -x "$DR" ] || { echo "examples: $DR is missing; run make examples (it builds first)" >&2; exit 2; }
out=docs/examples
work=$(mktemp -d /tmp/dr-examples.XXXXXX)
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
export AWS_EC2_METADATA_DISABLED=true NO_COLOR=1
bindir=$(pg_bindir)
port=$(free_port)
password="ex-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
start_postgres "$work/pg" "$port" "$password"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d shop "$@" </dev/null; }
"$bindir/createdb" shop
psql -c "CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), total numeric(10,2))" \
     -c "CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL)" \
     -c "CREATE UNLOGGED TABLE sessions (token text PRIMARY KEY)" \
     -c "INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 500) g" \
     -c "INSERT INTO orders (total) SELECT g % 100 FROM generate_series(1, 2000) g" \
     -c "INSERT INTO sessions (token) SELECT md5(g::text) FROM generate_series(1, 50) g"
mkdir -p "$work/repo" "$work/dr-repo"
[ "$(id -u)" = 0 ] && chown postgres: "$work/repo"
cat >"$work/dr.yml" <<YML
targets:
  shop-db:
    provider: postgres
    conninfo: "host=127.0.0.1 port=$port dbname=shop user=postgres"
    repository: repo
    dr_repository: dr-repo
    restore_root: restores
    retention: { weekly: 4 }
    verify: { rows: exact, freshness_query: "SELECT max(created_at) FROM orders" }
    drill: { max_age: 7d }
YML
export DR_CONFIG="$work/dr.yml" DR_STATE_DIR="$work/state"
"$DR" archive setup shop-db --apply >/dev/null
as_postgres "$bindir/pg_ctl" -D "$work/pg/data" -w -m fast restart >/dev/null
"$DR" snapshot shop-db >/dev/null
"$DR" copy shop-db >/dev/null
switch() { psql -c "SELECT pg_switch_wal()" >/dev/null; sleep 2; }
reports="$work/reports"
for i in 1 2 3; do
  psql -c "INSERT INTO orders (total) SELECT g % 100 FROM generate_series(1, $((i * 400))) g"
  switch
  "$DR" drill shop-db --report-dir "$reports" >/dev/null
done
# A manifest of the database now, then more rows: the next drill (verified exactly against the
# manifest) finds the difference and fails.
"$DR" verify capture --db "dbname=shop" --out "$work/manifest.json"
psql -c "INSERT INTO orders (total) SELECT 1 FROM generate_series(1, 37) g"
switch
"$DR" drill shop-db --report-dir "$reports" --manifest "$work/manifest.json" >/dev/null && { echo "examples: the failing drill passed" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
cp "$reports"/drill-*.html "$out"/
"$DR" drill history shop-db --output html --link-base ./ > "$out/history.html"
"$DR" status --all --output prometheus --textfile "$out/dr_status.prom"
cp "$reports/dr_drill_shop-db.prom" "$out/"
failed=$(grep -l 'class="verdict failed"' "$out"/drill-*.html | head -1)
passed=$(grep -l 'class="verdict passed"' "$out"/drill-*.html | tail -1)
cp "$failed" "$out/example-drill-failed.html"
cp "$passed" "$out/example-drill-passed.html"
shot() {
  local profile; profile=$(mktemp -d /tmp/dr-examples-chromium.XXXXXX)
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-sync \
    --disable-background-networking --disable-component-update --disable-default-apps --no-pings \
    --proxy-server=http://127.0.0.1:9 --user-data-dir="$profile" --window-size="$3" \
    --screenshot="$PWD/$2" "file://$PWD/$1" >/dev/null 2>&1
  rm -rf "$profile"
}
shot "$out/example-drill-failed.html" "$out/example-drill-failed.png" 1000,1500
shot "$out/history.html" "$out/history.png" 1000,1250
echo "examples: $(ls "$out" | wc -l) files in $out" >&2
