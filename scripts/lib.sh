# Shared shell helpers for the Makefile's scripts. Sourced, not run.
set -euo pipefail

# The PostgreSQL server binaries are installed but not on PATH; pg_config names their folder.
pg_bindir() { pg_config --bindir; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# PostgreSQL refuses to run as root: when we are root, run its programs as the postgres OS user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DIR PORT PASSWORD: a throwaway cluster listening on 127.0.0.1 only.
start_postgres() {
  local dir=$1 port=$2 password=$3 bindir
  bindir=$(pg_bindir)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
  as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/pwfile" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  rm -f "$dir/pwfile"
  as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c max_connections=100" \
      start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

stop_postgres() {
  local dir=$1
  [ -d "$dir/data" ] && as_postgres "$(pg_bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# start_moto DIR PORT: the moto AWS emulator on 127.0.0.1:PORT, waited for until it answers.
# The caller's environment (e.g. INITIAL_NO_AUTH_ACTION_COUNT) passes through.
start_moto() {
  local dir=$1 port=$2 i
  mkdir -p "$dir"
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  for i in $(seq 1 150); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/"; then return 0; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/server.log" >&2; return 1; }
    sleep 0.1
  done
  echo "moto did not start on port $port" >&2; cat "$dir/server.log" >&2; return 1
}

stop_moto() {
  local dir=$1
  [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
  [ -f "$dir/pid" ] && { for _ in $(seq 1 50); do kill -0 "$(cat "$dir/pid")" 2>/dev/null || break; sleep 0.1; done; kill -9 "$(cat "$dir/pid")" 2>/dev/null || true; }
  return 0
}
