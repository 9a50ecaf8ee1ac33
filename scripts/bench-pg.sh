#!/usr/bin/env bash
# make bench (self-hosted PostgreSQL): base backup with `dr snapshot` against plain
# `pg_basebackup`, and `dr restore --point-in-time` against the same steps done by hand
# (copy a base backup, recovery.signal, restore_command = cp from the archive, target time,
# pg_ctl start, wait for promotion). Same database, same machine, medians of RUNS runs.
# SIZE_ROWS rows of ~300 bytes (default 1,000,000: about 350 MB on disk).
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DR=${DR:-$PWD/.build/release/dr}
[ -x "$DR" ] || DR=$PWD/.build/debug/dr
RUNS=${RUNS:-3}
ROWS=${SIZE_ROWS:-1000000}
bindir=$(pg_bindir)

work=$(mktemp -d /tmp/dr-bench-pg.XXXXXX)
chmod 755 "$work"
cleanup() {
  for d in "$work"/restores/*/data "$work"/byhand-*/data; do
    [ -f "$d/postmaster.pid" ] && as_postgres "$bindir/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  stop_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pgtime() { "$bindir/psql" -X -At -d postgres -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"; }

port=$(free_port)
password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
start_postgres "$work/pg" "$port" "$password"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password
mkdir -p "$work/repo"; [ "$(id -u)" = 0 ] && chown postgres: "$work/repo" "$work"
cat >"$work/dr.yml" <<YML
targets:
  bench:
    provider: postgres
    conninfo: "host=127.0.0.1 port=$port dbname=postgres user=postgres"
    repository: repo
    restore_root: restores
YML
export DR_CONFIG="$work/dr.yml"
"$DR" archive setup bench --apply >/dev/null
as_postgres "$bindir/pg_ctl" -D "$work/pg/data" -w -m fast restart >/dev/null
"$bindir/psql" -X -q -d postgres -c "CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat('x', 250) AS payload FROM generate_series(1, $ROWS) g" -c "CHECKPOINT"
size=$("$bindir/psql" -X -At -d postgres -c "SELECT pg_size_pretty(pg_database_size('postgres'))")
echo "database: $size ($ROWS rows); dr: $DR; runs: $RUNS"

dr_backup=() pgbb_backup=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now); "$DR" snapshot bench >/dev/null 2>&1; t1=$(now)
  dr_backup+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$work/bb"; mkdir -p "$work/bb"; [ "$(id -u)" = 0 ] && chown postgres: "$work/bb"
  t0=$(now); as_postgres env PGPASSWORD="$password" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$work/bb/data" -c fast -X fetch >/dev/null; t1=$(now)
  pgbb_backup+=("$(echo "$t1 - $t0" | bc)")
done
dr_b=$(printf '%s\n' "${dr_backup[@]}" | median); bb_b=$(printf '%s\n' "${pgbb_backup[@]}" | median)
printf 'base backup:     dr snapshot %6.2fs   pg_basebackup -c fast -X fetch %6.2fs   ratio %.2f\n' "$dr_b" "$bb_b" "$(echo "$dr_b / $bb_b" | bc -l)"

# WAL to replay: updates after the backups, a moment, more updates, a switch.
"$bindir/psql" -X -q -d postgres -c "UPDATE big SET payload = md5(payload) || repeat('y', 250) WHERE id % 4 = 0"
sleep 0.2; T=$(pgtime); T_pg=$(echo "$T" | sed -e 's/T/ /' -e 's/Z$/+00/'); sleep 0.2
"$bindir/psql" -X -q -d postgres -c "UPDATE big SET payload = 'after' WHERE id % 7 = 0" -c "SELECT pg_switch_wal()" >/dev/null
sleep 1
latest_wal=$(ls "$work/repo/wal" | grep -E '^[0-9A-F]{24}$' | tail -1)

dr_restore=() hand_restore=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now); "$DR" restore bench --point-in-time "$T" --as "r$i" >/dev/null 2>&1 || { echo "dr restore failed" >&2; exit 1; }; t1=$(now)
  dr_restore+=("$(echo "$t1 - $t0" | bc)")
  "$DR" teardown "r$i" >/dev/null
  # By hand: the same steps with cp and pg_ctl, from the pg_basebackup copy and the same archive.
  h="$work/byhand-$i"; hp=$(free_port)
  t0=$(now)
  mkdir -p "$h"; cp -a "$work/bb/data" "$h/data"; rm -rf "$h/data/pg_wal"/0* ; touch "$h/data/recovery.signal"
  cat >>"$h/data/postgresql.auto.conf" <<CONF
port = $hp
unix_socket_directories = '$h'
archive_mode = off
restore_command = 'cp $work/repo/wal/%f %p'
recovery_target_time = '$T_pg'
recovery_target_action = 'promote'
CONF
  [ "$(id -u)" = 0 ] && chown -R postgres: "$h"
  as_postgres "$bindir/pg_ctl" -D "$h/data" -l "$h/log" -w start >/dev/null
  until [ "$("$bindir/psql" -X -At -p "$hp" -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.05; done
  t1=$(now)
  hand_restore+=("$(echo "$t1 - $t0" | bc)")
  as_postgres "$bindir/pg_ctl" -D "$h/data" -m immediate -w stop >/dev/null; rm -rf "$h"
done
dr_r=$(printf '%s\n' "${dr_restore[@]}" | median); hand_r=$(printf '%s\n' "${hand_restore[@]}" | median)
printf 'restore to time: dr restore  %6.2fs   by hand (cp + pg_ctl)          %6.2fs   ratio %.2f\n' "$dr_r" "$hand_r" "$(echo "$dr_r / $hand_r" | bc -l)"
echo "runs: dr snapshot ${dr_backup[*]} | pg_basebackup ${pgbb_backup[*]} | dr restore ${dr_restore[*]} | by hand ${hand_restore[*]}"
