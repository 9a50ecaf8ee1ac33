#!/usr/bin/env bash
# make bench: runs every scripts/bench-*.sh (each area's benchmark) against a release build.
# Each prints its figures; BENCHMARKS.md records them with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -srm)"
shopt -s nullglob
for b in scripts/bench-*.sh; do
  echo "== $b"
  bash "$b"
done
