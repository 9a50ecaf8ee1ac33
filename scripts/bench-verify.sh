#!/usr/bin/env bash
# Benchmark of `dr verify` (make bench). Builds two fixture databases on one throwaway
# PostgreSQL 15 server:
#   platform       the platform sample at scale 12: ~1M rows over ~55 tables and partitions
#   platform_1000  the same plus 1,000 extra small tables (10 rows and a primary key each)
# and measures on each, in one run: `dr verify` against a manifest (schema + exact counts,
# release build), a shell loop of `psql -c "select count(*)"` per table, all counts in one
# psql session, and `pg_dump --schema-only`. Wall times are the best of $RUNS runs (the
# per-table shell loop runs once), dr's and pg_dump's runs alternating so that both see the
# same load; dr's peak memory is the largest of /usr/bin/time's maximum RSS over its runs.
# The load average is printed before and after: on a shared machine, compare within one run.
#
# Then, for issue 15:
#   contents     `dr verify --content checksum` against a manifest captured with contents, on
#                platform, against `pg_dump --data-only -f /dev/null` (both read every row);
#                target <= 0.5x pg_dump's time and < 64 MiB
#   10,000 tables `dr verify capture` and `dr verify` on 10,000 tables (a primary key each, one
#                in ten with a serial) with the server's default max_locks_per_transaction (64),
#                peak memory (target < 100 MiB), beside `pg_dump --schema-only`
#   one big table `dr verify` (schema + exact count) of a database holding one table of
#                $BIG_ROWS rows (20 M by default; BIG_ROWS=0 skips it) against psql's
#                `select count(*)` of it; target <= 1.05x
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DR=${DR:-.build/release/dr}
RUNS=${RUNS:-5}
SCALE=${SCALE:-12}
BIG_ROWS=${BIG_ROWS:-20000000}
[ -x "$DR" ] || { echo "bench-verify: $DR is missing; run make bench (it builds the release first)" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq time >/dev/null
fi

work=$(mktemp -d /tmp/dr-bench.XXXXXX)
chmod 755 "$work"
cleanup() { stop_postgres "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
start_postgres "$work/pg" "$port" "bench-$$"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD="bench-$$"
bindir=$(pg_bindir)
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@" </dev/null; }

echo "fixture: platform sample at scale $SCALE, then 1,000 extra tables" >&2
"$bindir/createdb" platform
psql -v scale="$SCALE" -f scripts/sample/platform.sql -d platform >/dev/null
psql -d postgres -c "CREATE DATABASE platform_1000 TEMPLATE platform"
psql -d platform_1000 -c "
  DO \$\$ BEGIN
    FOR i IN 1..1000 LOOP
      EXECUTE format('CREATE TABLE public.%I (id int PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now())', 'extra_' || i);
      EXECUTE format('INSERT INTO public.%I (id, name) SELECT g, ''n'' || g FROM generate_series(1, 10) g', 'extra_' || i);
    END LOOP;
  END \$\$" -c "VACUUM ANALYZE"
psql -d platform -c "VACUUM ANALYZE"

now() { date +%s.%N; }
# best_of N CMD...: the fastest wall time of N runs, in seconds.
best_of() {
  local n=$1 best="" t0 t1 t; shift
  for _ in $(seq "$n"); do
    t0=$(now); "$@" >/dev/null 2>&1 || { echo "bench-verify: failed: $*" >&2; exit 1; }; t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%.3f' "$best"
}
tables_of() {
  psql -At -d "$1" -c "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
}
count_loop() { local t; while read -r t; do "$bindir/psql" -X -At -d "$1" -c "select count(*) from only $t" >/dev/null </dev/null; done <"$2"; }
count_session() { sed 's/.*/select count(*) from only &;/' "$2" | "$bindir/psql" -X -At -d "$1" >/dev/null; }

# dr_and_dump DB MANIFEST: $RUNS alternating runs of dr verify and pg_dump --schema-only;
# sets dr_time, dump_time (best of each) and rss_kb (dr's largest maximum RSS).
dr_and_dump() {
  local db=$1 manifest=$2 t0 t1 t rss
  dr_time=""; dump_time=""; rss_kb=0
  for _ in $(seq "$RUNS"); do
    t0=$(now); /usr/bin/time -f '%M' -o "$work/rss" "$DR" verify --db "dbname=$db" --manifest "$manifest" >/dev/null 2>&1 \
      || { echo "bench-verify: dr verify failed on $db" >&2; exit 1; }; t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l); rss=$(tail -1 "$work/rss")
    if [ -z "$dr_time" ] || [ "$(echo "$t < $dr_time" | bc -l)" = 1 ]; then dr_time=$t; fi
    [ "$rss" -gt "$rss_kb" ] && rss_kb=$rss
    t0=$(now); "$bindir/pg_dump" --schema-only -d "$db" -f /dev/null || { echo "bench-verify: pg_dump failed" >&2; exit 1; }; t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$dump_time" ] || [ "$(echo "$t < $dump_time" | bc -l)" = 1 ]; then dump_time=$t; fi
  done
  dr_time=$(printf '%.3f' "$dr_time"); dump_time=$(printf '%.3f' "$dump_time")
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" >&2
printf '\n%-14s %7s %10s | %-26s %-12s %-12s %-12s %-10s\n' database tables rows "dr verify (max RSS)" "psql loop" "one psql" "pg_dump -s" "dr/pg_dump"
for db in platform platform_1000; do
  tables_of "$db" >"$work/$db.tables"
  ntables=$(wc -l <"$work/$db.tables")
  "$DR" verify capture --db "dbname=$db" --out "$work/$db.json" >/dev/null
  rows=$(python3 -c "import json,sys; print(sum(json.load(open(sys.argv[1]))['row_counts'].values()))" "$work/$db.json")
  dr_and_dump "$db" "$work/$db.json"
  rss_mib=$(echo "scale=1; $rss_kb / 1024" | bc -l)
  loop_time=$(best_of 1 count_loop "$db" "$work/$db.tables")
  session_time=$(best_of "$RUNS" count_session "$db" "$work/$db.tables")
  ratio=$(echo "scale=2; $dr_time / $dump_time" | bc -l)
  printf '%-14s %7s %10s | %-26s %-12s %-12s %-12s %-10s\n' "$db" "$ntables" "$rows" \
    "${dr_time}s (${rss_mib} MiB)" "${loop_time}s" "${session_time}s" "${dump_time}s" "$ratio"
done
echo "(dr verify: --jobs default, $(nproc) cores; best of $RUNS runs except the per-table psql loop, 1 run)"

# timed_rss VAR_TIME VAR_RSS CMD...: one run of CMD; its wall time (s) and maximum RSS (KiB).
timed_rss() {
  local __t=$1 __r=$2 t0 t1; shift 2
  t0=$(now); /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err" \
    || { echo "bench-verify: failed: $*" >&2; cat "$work/err" >&2; exit 1; }; t1=$(now)
  printf -v "$__t" '%s' "$(echo "$t1 - $t0" | bc -l)"
  printf -v "$__r" '%s' "$(tail -1 "$work/rss")"
}
# best_pair NAME_A NAME_B "CMD A" "CMD B": $RUNS alternating runs of two commands; prints the
# best wall time of each, A's largest max RSS and the ratio A / B.
best_pair() {
  local a=$1 b=$2 cmd_a=$3 cmd_b=$4 ta="" tb="" rss=0 t r
  for _ in $(seq "$RUNS"); do
    timed_rss t r bash -c "exec $cmd_a"
    if [ -z "$ta" ] || [ "$(echo "$t < $ta" | bc -l)" = 1 ]; then ta=$t; fi
    [ "$r" -gt "$rss" ] && rss=$r
    timed_rss t r bash -c "exec $cmd_b"
    if [ -z "$tb" ] || [ "$(echo "$t < $tb" | bc -l)" = 1 ]; then tb=$t; fi
  done
  printf '%-44s %8.3fs (max RSS %5.1f MiB) | %-34s %8.3fs | ratio %.2f\n' "$a" "$ta" "$(echo "$rss / 1024" | bc -l)" "$b" "$tb" "$(echo "$ta / $tb" | bc -l)"
}
export DR work bindir

echo
echo "contents (platform, scale $SCALE):"
"$DR" verify capture --db "dbname=platform" --content checksum --out "$work/platform-content.json" >/dev/null
best_pair "dr verify --content checksum" "pg_dump --data-only -f /dev/null" \
  '"$DR" verify --db "dbname=platform" --content checksum --manifest "$work/platform-content.json"' \
  '"$bindir/pg_dump" --data-only -d platform -f /dev/null'

echo
echo "10,000 tables, max_locks_per_transaction = $(psql -At -d postgres -c 'show max_locks_per_transaction'):"
"$bindir/createdb" t10k
python3 - >"$work/t10k.sql" <<'PY'
print("SET client_min_messages = warning; BEGIN;")
for i in range(10000):
    print(f"CREATE TABLE public.t{i} (id {'serial' if i % 10 == 0 else 'int'} PRIMARY KEY, v int);")
    if i % 500 == 499: print("COMMIT; BEGIN;")
print("COMMIT; INSERT INTO public.t0 (v) SELECT g FROM generate_series(1, 25) g;")
PY
psql -d t10k -f "$work/t10k.sql" >/dev/null
best_pair "dr verify capture" "pg_dump --schema-only" \
  '"$DR" verify capture --db "dbname=t10k" --out "$work/t10k.json"' \
  '"$bindir/pg_dump" --schema-only -d t10k -f /dev/null'
best_pair "dr verify --manifest" "pg_dump --schema-only" \
  '"$DR" verify --db "dbname=t10k" --manifest "$work/t10k.json"' \
  '"$bindir/pg_dump" --schema-only -d t10k -f /dev/null'
"$bindir/dropdb" t10k

if [ "$BIG_ROWS" -gt 0 ]; then
  echo
  echo "one table of $BIG_ROWS rows (max_parallel_workers_per_gather = $(psql -At -d postgres -c 'show max_parallel_workers_per_gather')):"
  "$bindir/createdb" big
  psql -d big -c "CREATE TABLE big (id bigint PRIMARY KEY, v int, note text)" \
       -c "INSERT INTO big SELECT g, g % 1000, 'n' || g FROM generate_series(1, $BIG_ROWS) g" -c "VACUUM ANALYZE big"
  "$DR" verify capture --db "dbname=big" --out "$work/big.json" >/dev/null
  # Warm the cache for both sides alike.
  psql -d big -c "select count(*) from big" >/dev/null
  best_pair "dr verify --manifest (schema + count)" "psql: select count(*) from big" \
    '"$DR" verify --db "dbname=big" --manifest "$work/big.json"' \
    '"$bindir/psql" -X -At -d big -c "select count(*) from big"'
  "$bindir/dropdb" big
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
