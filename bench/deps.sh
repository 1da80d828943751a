#!/usr/bin/env bash
# Dependency audit speed: tripline vs cargo-audit, whole processes, side by
# side in one run (hyperfine), on the real lockfiles of ../shared/deps-oracle
# against ../shared/advisory-db.
#
#   bench/deps.sh [TRIPLINE_BIN] [CARGO_AUDIT_BIN] [SHARED_DIR]
#
# Defaults: target/release/tripline, /work/tools/bin/cargo-audit (install it
# with `cargo install cargo-audit --locked --version 0.22.2 --root /work/tools`),
# ../shared. Two comparisons:
#   1. meili-head.Cargo.lock: `tripline deps DIR` vs
#      `cargo audit --db DB --no-fetch --no-yanked -f LOCK` (target: >= 5x)
#   2. 50 lockfiles (25 copies of each oracle lockfile, one per folder):
#      one `tripline deps TREE` vs 50 cargo-audit runs (target: >= 20x)
# Prints the medians and the ratios; results under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
tripline=$(realpath "${1:-target/release/tripline}")
audit=$(realpath "${2:-/work/tools/bin/cargo-audit}")
shared=$(realpath "${3:-../shared}")
db=$shared/advisory-db
oracle=$shared/deps-oracle
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/one"
cp "$oracle/meili-head.Cargo.lock" "$work/one/Cargo.lock"
for i in $(seq -w 1 50); do
  mkdir -p "$work/fifty/p$i"
  if (( 10#$i % 2 )); then src=meili-head; else src=meili-2022-06-01; fi
  cp "$oracle/$src.Cargo.lock" "$work/fifty/p$i/Cargo.lock"
done
# The 50 cargo-audit runs, as one command for hyperfine.
{
  echo '#!/bin/sh'
  for f in "$work"/fifty/p*/Cargo.lock; do
    echo "\"$audit\" audit --db \"$db\" --no-fetch --no-yanked -q -f \"$f\" >/dev/null 2>&1"
  done
  echo 'exit 0'
} > "$work/audit50.sh"
chmod +x "$work/audit50.sh"

trip() { echo "$tripline deps $1 --db $db --offline --format json --fail-on never --quiet"; }

echo "== 1. one lockfile (meili-head, 830 packages)"
hyperfine -N -i --warmup 2 --runs "${RUNS_ONE:-15}" \
  -n tripline "$(trip "$work/one")" \
  -n cargo-audit "$audit audit --db $db --no-fetch --no-yanked -f $work/one/Cargo.lock" \
  --export-json "$out/deps-one.json"

echo "== 2. fifty lockfiles: one tripline run vs fifty cargo-audit runs"
hyperfine -N -i --warmup 1 --runs "${RUNS_FIFTY:-5}" \
  -n tripline "$(trip "$work/fifty")" \
  -n cargo-audit-x50 "$work/audit50.sh" \
  --export-json "$out/deps-fifty.json"

python3 - "$out/deps-one.json" "$out/deps-fifty.json" <<'PY'
import json, sys
targets = {"deps-one": 5, "deps-fifty": 20}
ok = True
for path in sys.argv[1:]:
    name = path.rsplit("/", 1)[-1][:-5]
    r = {x["command"]: x["median"] for x in json.load(open(path))["results"]}
    t = r["tripline"]
    peer_name, peer = [(k, v) for k, v in r.items() if k != "tripline"][0]
    ratio = peer / t
    verdict = "ok" if ratio >= targets[name] else "BELOW TARGET"
    ok &= ratio >= targets[name]
    print(f"{name:11} tripline median {t*1000:8.1f} ms  {peer_name} median {peer*1000:8.1f} ms  "
          f"ratio {ratio:6.1f}x  (target >= {targets[name]}x) {verdict}")
sys.exit(0 if ok else 1)
PY
