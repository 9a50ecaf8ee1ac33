#!/usr/bin/env bash
# make bench (self-hosted PostgreSQL): the native repository against pgBackRest 2.45 (Debian's
# package, installed by `scripts/setup.sh --bench`) on the same server, databases and machine:
#   - base backup: `dr snapshot` (zstd level 3) vs `pgbackrest backup --type=full --compress-type=zst`
#     (level 3, --process-max = dr's jobs = the cores, --start-fast), and uncompressed
#     `dr snapshot` (compression: none) vs `pg_basebackup -c fast -X fetch`;
#   - repository size of the backup, of WAL_SEGMENTS busy segments and of QUIET forced switches;
#   - restore to a time: `dr restore --point-in-time` vs `pgbackrest restore --type=time` plus the
#     same server start by hand (pg_ctl start, wait until promoted).
# Both tools archive every segment (archive_command runs dr wal-push && pgbackrest archive-push),
# runs alternate, figures are medians of RUNS. Databases (generated here): DATABASES="text pgbench",
# ~2 GB each (TEXT_ROWS rows of random hex text; PGBENCH_SCALE).
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DR=${DR:-$PWD/.build/release/dr}
[ -x "$DR" ] || DR=$PWD/.build/debug/dr
RUNS=${RUNS:-3}
DATABASES=${DATABASES:-text pgbench}
TEXT_ROWS=${TEXT_ROWS:-7500000}
PGBENCH_SCALE=${PGBENCH_SCALE:-135}
WAL_SEGMENTS=${WAL_SEGMENTS:-30}
QUIET=${QUIET:-30}
bindir=$(pg_bindir)
bash scripts/setup.sh --bench
JOBS=$(nproc)

work=$(mktemp -d /tmp/dr-bench-pg.XXXXXX)
chmod 755 "$work"
cleanup() {
  for d in "$work"/restores/*/data "$work"/pgbr-restore-*/data; do
    [ -f "$d/postmaster.pid" ] && as_postgres "$bindir/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  stop_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { echo "$1 / $2" | bc -l; }
mib() { echo "$1 / 1048576" | bc -l; }
pgtime() { "$bindir/psql" -X -At -d postgres -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"; }
q() { "$bindir/psql" -X -q -At -d postgres "$@"; }
bytes_of() { du -sb "$@" 2>/dev/null | awk '{s+=$1} END {print s+0}'; }

port=$(free_port)
password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
start_postgres "$work/pg" "$port" "$password"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password
mkdir -p "$work/repo" "$work/pgbr" "$work/restores"
[ "$(id -u)" = 0 ] && chown postgres: "$work/repo" "$work/pgbr" "$work"

write_config() {  # write_config COMPRESSION-YAML
  cat >"$work/dr.yml" <<YML
targets:
  bench:
    provider: postgres
    conninfo: "host=127.0.0.1 port=$port dbname=postgres user=postgres"
    repository: repo
    restore_root: restores
    compression: $1
    jobs: $JOBS
YML
}
export DR_CONFIG="$work/dr.yml"
cat >"$work/pgbackrest.conf" <<CONF
[global]
repo1-path=$work/pgbr
repo1-retention-full=20
compress-type=zst
compress-level=3
process-max=$JOBS
start-fast=y
log-level-console=warn
log-level-file=off
lock-path=$work/pgbr-lock
spool-path=$work/pgbr-spool

[bench]
pg1-path=$work/pg/data
pg1-port=$port
pg1-socket-path=$work/pg
CONF
[ "$(id -u)" = 0 ] && chown postgres: "$work/pgbackrest.conf"
pgbr() { as_postgres pgbackrest --config="$work/pgbackrest.conf" --stanza=bench "$@"; }

# Archiving into both repositories: dr's command as `dr archive setup` writes it, then pgBackRest's.
use_archive() {  # use_archive COMPRESSION-YAML
  write_config "$1"
  "$DR" archive setup bench --apply --output json >"$work/setup.json"
  local cmd
  cmd=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((c["wanted"] for c in d["changes"] if c["name"]=="archive_command"), ""))' "$work/setup.json")
  [ -z "$cmd" ] && cmd=$(q -c "SHOW archive_command" | sed 's/ && pgbackrest.*//')
  q -c "ALTER SYSTEM SET archive_command = \$\$$cmd && pgbackrest --config=$work/pgbackrest.conf --stanza=bench archive-push %p\$\$" -c "SELECT pg_reload_conf()" >/dev/null
}
use_archive "{ type: zstd, level: 3 }"
as_postgres "$bindir/pg_ctl" -D "$work/pg/data" -w -m fast restart >/dev/null
pgbr stanza-create >/dev/null

# Waits until both archives hold the segment holding the current insert position's predecessor.
switch_and_wait() {
  local seg
  seg=$(q -c "SELECT pg_walfile_name(pg_switch_wal())")
  for _ in $(seq 1 600); do
    if ls "$work/repo/wal/$seg"* >/dev/null 2>&1 && [ -n "$(find "$work/pgbr/archive" -name "$seg-*" 2>/dev/null | head -1)" ]; then return 0; fi
    sleep 0.05
  done
  echo "segment $seg not archived by both" >&2; return 1
}
# Stored bytes of the segments from $1 to $2 (names) in each archive.
dr_wal_bytes() { local s=0 f n; for f in "$work"/repo/wal/0*; do n=$(basename "$f"); n=${n%%.*}; [[ "$f" == *.json ]] && continue; [[ "$n" > "$1" || "$n" == "$1" ]] && [[ "$n" < "$2" || "$n" == "$2" ]] && s=$((s + $(stat -c %s "$f"))); done; echo $s; }
pgbr_wal_bytes() { local s=0 f n; while read -r f; do n=$(basename "$f"); n=${n:0:24}; [[ "$n" > "$1" || "$n" == "$1" ]] && [[ "$n" < "$2" || "$n" == "$2" ]] && s=$((s + $(stat -c %s "$f"))); done < <(find "$work/pgbr/archive" -type f -name '0*-*'); echo $s; }

echo "dr: $DR; pgBackRest: $(pgbackrest version); jobs/process-max: $JOBS; runs: $RUNS"
for db in $DATABASES; do
  PGOPTIONS="-c client_min_messages=warning" q -c "DROP TABLE IF EXISTS big, tick, pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history"
  if [ "$db" = text ]; then
    q -c "CREATE TABLE big AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS payload FROM generate_series(1, $TEXT_ROWS) g" \
      -c "ALTER TABLE big ADD PRIMARY KEY (id)"
    busy="UPDATE big SET payload = md5(payload) || substr(payload, 33) WHERE id BETWEEN LO AND LO + 20000"
  else
    "$bindir/pgbench" -i -q -s "$PGBENCH_SCALE" postgres >/dev/null 2>&1
    busy="UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN LO AND LO + 20000"
  fi
  q -c "CREATE TABLE tick (i int)" -c "CHECKPOINT" >/dev/null
  switch_and_wait
  size=$(q -c "SELECT pg_size_pretty(pg_database_size('postgres'))")
  echo "== database $db: $size"

  # Base backups, alternating: dr (zstd 3) and pgBackRest (zst 3).
  dr_b=() pgbr_b=() dr_id="" pgbr_label=""
  for i in $(seq 1 "$RUNS"); do
    t0=$(now); "$DR" snapshot bench --output json >"$work/snap.json" 2>/dev/null || { echo "dr snapshot failed" >&2; exit 1; }; t1=$(now)
    dr_b+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); pgbr backup --type=full >/dev/null || { echo "pgbackrest backup failed" >&2; exit 1; }; t1=$(now)
    pgbr_b+=("$(echo "$t1 - $t0" | bc)")
  done
  dr_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/snap.json")
  pgbr_label=$(ls "$work/pgbr/backup/bench" | grep -E '^[0-9]{8}-[0-9]{6}F$' | sort | tail -1)
  dr_size=$(bytes_of "$work/repo/backups/$dr_id"); pgbr_size=$(bytes_of "$work/pgbr/backup/bench/$pgbr_label")
  a=$(printf '%s\n' "${dr_b[@]}" | median); b=$(printf '%s\n' "${pgbr_b[@]}" | median)
  printf '%s backup (zstd 3):      dr snapshot %6.2fs   pgbackrest backup %6.2fs   ratio %.2f\n' "$db" "$a" "$b" "$(ratio "$a" "$b")"
  printf '%s backup size:          dr %8.1f MiB   pgbackrest %8.1f MiB   ratio %.3f\n' "$db" "$(mib "$dr_size")" "$(mib "$pgbr_size")" "$(ratio "$dr_size" "$pgbr_size")"
  echo "  runs: dr ${dr_b[*]} | pgbackrest ${pgbr_b[*]}"

  # Uncompressed dr snapshot against pg_basebackup (the figure before compression existed).
  use_archive "{ type: none }"
  raw_b=() bb_b=()
  for i in $(seq 1 "$RUNS"); do
    t0=$(now); "$DR" snapshot bench >/dev/null 2>&1 || { echo "dr snapshot (none) failed" >&2; exit 1; }; t1=$(now)
    raw_b+=("$(echo "$t1 - $t0" | bc)")
    rm -rf "$work/bb"; mkdir -p "$work/bb"; [ "$(id -u)" = 0 ] && chown postgres: "$work/bb"
    t0=$(now); as_postgres env PGPASSWORD="$password" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$work/bb/data" -c fast -X fetch >/dev/null; t1=$(now)
    bb_b+=("$(echo "$t1 - $t0" | bc)")
  done
  rm -rf "$work/bb"
  a=$(printf '%s\n' "${raw_b[@]}" | median); b=$(printf '%s\n' "${bb_b[@]}" | median)
  printf '%s backup (none):        dr snapshot %6.2fs   pg_basebackup     %6.2fs   ratio %.2f\n' "$db" "$a" "$b" "$(ratio "$a" "$b")"
  echo "  runs: dr ${raw_b[*]} | pg_basebackup ${bb_b[*]}"
  # Raw backups out of the way (keep the compressed ones for the restores).
  for d in "$work"/repo/backups/*; do
    [ -f "$d/backup.json" ] && grep -q '"compression"' "$d/backup.json" || rm -rf "$d"
  done
  use_archive "{ type: zstd, level: 3 }"
  "$DR" snapshot bench >/dev/null 2>&1; pgbr backup --type=full >/dev/null

  # WAL: WAL_SEGMENTS busy segments, a moment in the middle, then QUIET near-empty forced switches.
  first=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  start=$(q -c "SELECT pg_current_wal_lsn()")
  lo=1; T=""
  while [ "$(q -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start') >= $WAL_SEGMENTS * 16 * 1024 * 1024")" = f ]; do
    q -c "${busy//LO/$lo}" >/dev/null
    lo=$((lo + 20000))
    if [ -z "$T" ] && [ "$(q -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start') >= $WAL_SEGMENTS * 8 * 1024 * 1024")" = t ]; then
      sleep 0.2; T=$(pgtime); sleep 0.2
    fi
  done
  last=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  switch_and_wait
  printf '%s WAL, busy (%s to %s): dr %8.1f MiB   pgbackrest %8.1f MiB   ratio %.3f\n' "$db" "$first" "$last" \
    "$(mib "$(dr_wal_bytes "$first" "$last")")" "$(mib "$(pgbr_wal_bytes "$first" "$last")")" "$(ratio "$(dr_wal_bytes "$first" "$last")" "$(pgbr_wal_bytes "$first" "$last")")"
  q -c "CHECKPOINT" >/dev/null; sleep 1; switch_and_wait
  qfirst=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  for i in $(seq 1 "$QUIET"); do q -c "INSERT INTO tick VALUES ($i)" >/dev/null; switch_and_wait; done
  qlast=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
  dq=$(dr_wal_bytes "$qfirst" "$qlast"); pq=$(pgbr_wal_bytes "$qfirst" "$qlast")
  printf '%s WAL, %s forced switches on a quiet server: dr %.0f KiB (%.1f KiB each)   pgbackrest %.0f KiB (%.1f KiB each)   ratio %.3f\n' "$db" "$QUIET" \
    "$(echo "$dq / 1024" | bc -l)" "$(echo "$dq / 1024 / $QUIET" | bc -l)" "$(echo "$pq / 1024" | bc -l)" "$(echo "$pq / 1024 / $QUIET" | bc -l)" "$(ratio "$dq" "$pq")"

  # Restores to T, alternating; pgBackRest's server started by hand as dr starts its own.
  T_pg=$(echo "$T" | sed -e 's/T/ /' -e 's/Z$/+00/')
  dr_r=() pgbr_r=() phases=()
  for i in $(seq 1 "$RUNS"); do
    t0=$(now); "$DR" restore bench --point-in-time "$T" --as "r$i" --output json >"$work/restore.json" 2>/dev/null || { echo "dr restore failed" >&2; exit 1; }; t1=$(now)
    dr_r+=("$(echo "$t1 - $t0" | bc)")
    phases+=("$(python3 -c 'import json,sys; print(" ".join("%s=%.2fs" % (p["name"], p["seconds"]) for p in json.load(open(sys.argv[1]))["phases"]))' "$work/restore.json")")
    "$DR" teardown "r$i" >/dev/null
    h="$work/pgbr-restore-$i"; hp=$(free_port)
    mkdir -p "$h/data"; chmod 700 "$h/data"; [ "$(id -u)" = 0 ] && chown -R postgres: "$h"
    t0=$(now)
    pgbr restore --pg1-path="$h/data" --type=time "--target=$T_pg" --target-action=promote >/dev/null || { echo "pgbackrest restore failed" >&2; exit 1; }
    as_postgres "$bindir/pg_ctl" -D "$h/data" -l "$h/log" -W -o "-p $hp -c listen_addresses=127.0.0.1 -c unix_socket_directories=$h -c archive_mode=off" start >/dev/null
    until [ "$("$bindir/psql" -X -At -h 127.0.0.1 -p "$hp" -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.05; done
    t1=$(now)
    pgbr_r+=("$(echo "$t1 - $t0" | bc)")
    as_postgres "$bindir/pg_ctl" -D "$h/data" -m immediate -w stop >/dev/null; rm -rf "$h"
  done
  a=$(printf '%s\n' "${dr_r[@]}" | median); b=$(printf '%s\n' "${pgbr_r[@]}" | median)
  printf '%s restore to a time:    dr restore  %6.2fs   pgbackrest restore + start %6.2fs   ratio %.2f\n' "$db" "$a" "$b" "$(ratio "$a" "$b")"
  echo "  runs: dr ${dr_r[*]} | pgbackrest ${pgbr_r[*]}"
  printf '  dr restore phases: %s\n' "${phases[@]}"
  # Make room for the next database.
  rm -rf "$work"/repo/backups/* "$work"/pgbr/backup "$work"/pgbr/archive; pgbr stanza-create >/dev/null
done
