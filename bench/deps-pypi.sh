#!/usr/bin/env bash
# Python audit speed: every lockfile of ../shared/deps-oracle-pypi (the six
# case folders copied into one tree) audited in one run against
# ../shared/advisory-db-pypi, whole process, warm (the OSV index already in
# the cache), with hyperfine; then the CPU time with `perf stat` when perf is
# installed. Target: <= 50 ms.
#
#   bench/deps-pypi.sh [TRIPLINE_BIN] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
tripline=$(realpath "${1:-target/release/tripline}")
shared=$(realpath "${2:-../shared}")
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree"
for case in "$shared"/deps-oracle-pypi/*/; do
  cp -r "$case" "$work/tree/"
done
export XDG_CACHE_HOME="$work/cache"
cmd="$tripline deps $work/tree --pypi-db $shared/advisory-db-pypi --offline --format json --fail-on never --max-db-age 100000"
$cmd > /dev/null  # the first run writes the OSV index
hyperfine -N -w 5 -r "${RUNS:-40}" "$cmd"
if command -v perf >/dev/null; then
  perf stat -r 30 $cmd 2>&1 >/dev/null | grep -E "task-clock|elapsed"
fi
uptime
