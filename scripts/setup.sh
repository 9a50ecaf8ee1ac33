#!/usr/bin/env bash
# Installs what building and testing dr needs on a fresh Debian machine: the C libraries'
# development packages (libpq, libcurl, OpenSSL, zstd), a PostgreSQL 15 server, systemd-analyze
# and script(1) for the deploy and terminal tests, and the AWS emulator. With --bench, also what
# `make bench` compares against (pgBackRest). Idempotent and quiet when everything is already there.
set -euo pipefail
packages=(libpq-dev libcurl4-openssl-dev libssl-dev libzstd-dev postgresql-15 postgresql-client-15 python3 systemd util-linux)
[ "${1:-}" = --bench ] && packages+=(pgbackrest)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The AWS emulator (moto's server) and the AWS CLI for benchmarks.
if ! python3 -c 'import moto.server, flask_cors' >/dev/null 2>&1; then
  echo "setup: installing moto[server]" >&2
  python3 -m pip install -q 'moto[server]'
fi
