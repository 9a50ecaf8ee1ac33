#!/usr/bin/env bash
# Installs what building and testing dr needs on a fresh Debian machine: the C libraries'
# development packages (libpq, libcurl, OpenSSL, zstd), a PostgreSQL 15 server, systemd-analyze
# and script(1) for the deploy and terminal tests, headless Chromium (and a font) for the page
# tests, promtool (Debian's prometheus package) for the alert-rule tests, the AWS emulator and
# html5lib, and pgBackRest (the pgbackrest provider's tests and `make bench`). Idempotent and
# quiet when everything is already there.
set -euo pipefail
packages=(libpq-dev libcurl4-openssl-dev libssl-dev libzstd-dev postgresql-15 postgresql-client-15 pgbackrest python3 systemd util-linux)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
# Without their recommends (desktop helpers, node_exporter): about 40 s on a fresh machine.
lean=()
for pkg in chromium fonts-dejavu-core prometheus; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || lean+=("$pkg")
done
if [ ${#need[@]} -gt 0 ] || [ ${#lean[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} ${lean[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  [ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  [ ${#lean[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
fi
# The AWS emulator (moto's server) and the AWS CLI for benchmarks.
if ! python3 -c 'import moto.server, flask_cors' >/dev/null 2>&1; then
  echo "setup: installing moto[server]" >&2
  python3 -m pip install -q 'moto[server]'
fi
# An HTML parser that follows the WHATWG parsing rules, for the page tests.
if ! python3 -c 'import html5lib' >/dev/null 2>&1; then
  echo "setup: installing html5lib" >&2
  python3 -m pip install -q html5lib
fi
# The request checker (scripts/check-aws-requests.py) reads the botocore models moto brings and
# matches their patterns, some of which use \p{...} classes: the `regex` module has them.
if ! python3 -c 'import botocore, regex' >/dev/null 2>&1; then
  echo "setup: installing regex" >&2
  python3 -m pip install -q regex
fi
