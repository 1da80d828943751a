#!/usr/bin/env bash
# A minified file: 20 MB on one line against the same bytes as short lines,
# whole-process runs of `tripline secrets`, alternating (issue 6: within 2x;
# issue 3: about the same). Exits 1 when the one-line file takes more than
# twice as long.
#
# Usage: bench/single-line.sh [TRIPLINE_BIN]   (default: target/release/tripline)
# Environment: RUNS (default 7), MB (default 20).
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
tripline=$(realpath "${1:-target/release/tripline}")
runs=${RUNS:-7}
need python3
need_gnu_time

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lines" "$work/one"
# Source-like lines, with words generic rules key on and a planted AWS key
# id now and then: the same lines joined by newlines, or by spaces.
python3 - "$work" "${MB:-20}" <<'PY'
import random, sys
work, mb = sys.argv[1], int(sys.argv[2])
random.seed(6)
lines = [
    "    let mut buffer = Vec::with_capacity(request.len() + HEADER_SIZE);",
    "    if let Some(value) = headers.get(\"content-type\") {",
    "/// Returns the number of bytes written to the underlying writer.",
    "    pub fn token_count(&self) -> usize { self.tokens.len() }",
    "    let password = config.get(\"password\").unwrap_or_default();",
    "    api_key: String, // the key from https://example.com/user/settings",
]
planted = "const AWS_ID: &str = \"AKIAQYLPMN5HHHFPZAM2\";"
out, n = [], 0
while n < mb * 1_000_000:
    line = planted if random.random() < 0.0005 else random.choice(lines)
    out.append(line)
    n += len(line) + 1
open(f"{work}/lines/minified.js", "w").write("\n".join(out) + "\n")
open(f"{work}/one/minified.js", "w").write(" ".join(out) + "\n")
PY
cmd() { echo "$tripline secrets $work/$1 --max-file-size 100000000 --format json --fail-on never -q"; }
declare -A walls peaks
for shape in lines one; do $(cmd "$shape") >/dev/null; done # warm
for r in $(seq 1 "$runs"); do
  for shape in lines one; do
    read -r wall kib rc < <(timed_run "$work/$shape.$r.log" $(cmd "$shape"))
    [ "$rc" = 0 ] || die "tripline exited $rc on $shape (see $work/$shape.$r.log.out)"
    walls[$shape]="${walls[$shape]:-} $wall"
    peaks[$shape]="${peaks[$shape]:-} $kib"
  done
done
# shellcheck disable=SC2086 # word splitting of the number lists is intended
{
  l=$(median ${walls[lines]}); o=$(median ${walls[one]})
  echo "| shape | wall s (median of $runs) | peak RSS MiB (max) |"
  echo "|---|---|---|"
  awk -v w="$l" -v k="$(max ${peaks[lines]})" 'BEGIN { printf "| short lines | %.3f | %.0f |\n", w, k / 1024 }'
  awk -v w="$o" -v k="$(max ${peaks[one]})" 'BEGIN { printf "| one line | %.3f | %.0f |\n", w, k / 1024 }'
  awk -v o="$o" -v l="$l" 'BEGIN { r = o / l; printf "one line / short lines: %.2fx (bound: 2x)\n", r; exit (r > 2) }'
}
