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
# ROUNDS (default 5) rounds of both comparisons, RUNS_ONE (default 15) and
# RUNS_FIFTY (default 3) runs per tool per round. Prints the medians over
# all rounds' runs and the ratios; results under bench/out/.
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

# Rounds: each round runs both comparisons, one tool after the other
# (hyperfine runs all of one command's runs, then the next's). A burst of
# load lasting a second would otherwise fall on 60 runs of tripline (half
# a second in all) and on few of cargo-audit's: spreading each tool's runs
# over several rounds puts both under the same spells of noise. The
# medians are taken over the pooled runs of all rounds.
rounds=${ROUNDS:-5}
rm -f "$out"/deps-one-r*.json "$out"/deps-fifty-r*.json
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds: 1. one lockfile (meili-head, 830 packages)"
  hyperfine -N -i --warmup 2 --runs "${RUNS_ONE:-15}" \
    -n tripline "$(trip "$work/one")" \
    -n cargo-audit "$audit audit --db $db --no-fetch --no-yanked -f $work/one/Cargo.lock" \
    --export-json "$out/deps-one-r$r.json"

  echo "== round $r of $rounds: 2. fifty lockfiles: one tripline run vs fifty cargo-audit runs"
  hyperfine -N -i --warmup 1 --runs "${RUNS_FIFTY:-3}" \
    -n tripline "$(trip "$work/fifty")" \
    -n cargo-audit-x50 "$work/audit50.sh" \
    --export-json "$out/deps-fifty-r$r.json"
done

python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
targets = {"deps-one": 5, "deps-fifty": 20}
ok = True
summary = {}
for name, target in targets.items():
    pooled, per_round = {}, []
    for r in range(1, rounds + 1):
        results = json.load(open(f"{out}/{name}-r{r}.json"))["results"]
        medians = {}
        for x in results:
            pooled.setdefault(x["command"], []).extend(x["times"])
            medians[x["command"]] = x["median"]
        peer = [v for k, v in medians.items() if k != "tripline"][0]
        per_round.append(peer / medians["tripline"])
    t = statistics.median(pooled["tripline"])
    peer_name = [k for k in pooled if k != "tripline"][0]
    peer = statistics.median(pooled[peer_name])
    ratio = peer / t
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    ok &= ratio >= target
    rounds_text = " ".join(f"{x:.1f}x" for x in per_round)
    print(f"{name:11} tripline median {t*1000:8.1f} ms  {peer_name} median {peer*1000:8.1f} ms  "
          f"ratio {ratio:6.1f}x  (target >= {target}x) {verdict}")
    print(f"{'':11} runs pooled from {rounds} rounds ({len(pooled['tripline'])} of tripline); "
          f"each round's ratio: {rounds_text}")
    summary[name] = {"tripline_median_s": t, "peer": peer_name, "peer_median_s": peer,
                     "ratio": ratio, "target": target, "round_ratios": per_round}
json.dump(summary, open(f"{out}/deps-summary.json", "w"), indent=2)
sys.exit(0 if ok else 1)
PY
