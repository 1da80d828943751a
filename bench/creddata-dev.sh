#!/usr/bin/env bash
# Scores a tripline binary on the CredData development set
# (../shared/corpora/creddata-dev): precision, recall, F1 and per-category
# recall, UUID-only locations excluded, as the issue's bar is stated.
#
#   bench/creddata-dev.sh TRIPLINE_BIN [--min-f1 F] [--min-precision P] [--top N]
#                         [--keep DIR] [-- EXTRA SECRETS ARGS]
#
# Builds nothing: pass the binary (target/release/tripline). Exits 1 when a
# --min-* bar is given and missed. --keep DIR leaves the report and the
# JSON lines in DIR for a closer look.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${TRIPLINE_SHARED:-$root/../shared}
data=$shared/corpora/creddata-dev
bin=${1:?usage: bench/creddata-dev.sh TRIPLINE_BIN [--min-f1 F] [--min-precision P]}
shift
min_f1=0
min_p=0
top=25
keep=
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --min-f1) min_f1=$2; shift 2 ;;
    --min-precision) min_p=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -d "$data/data" ] || { echo "no development set at $data" >&2; exit 2; }
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

"$bin" secrets "$data/data" --format json -o "$work/report.json" --fail-on never ${extra[@]+"${extra[@]}"}
python3 - "$work/report.json" "$work/findings.jsonl" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as out:
    for f in report["findings"]:
        loc = f["location"]
        # Paths in the report are relative to the scanned data/ folder; a
        # multi-line finding is one range, so it counts once.
        out.write(json.dumps({"path": loc["path"], "line_start": loc["start_line"],
                              "line_end": loc["end_line"], "rule": f["rule_id"]}) + "\n")
PY
python3 "$data/score.py" "$data" "$work/findings.jsonl" --exclude-category UUID \
  --top "$top" --json "$work/score.json"
python3 - "$work/score.json" "$min_f1" "$min_p" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p, r, f1 = s["precision"], s["recall"], s["F1"]
min_f1, min_p = float(sys.argv[2]), float(sys.argv[3])
print(f"creddata-dev: precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")
if f1 < min_f1 or p < min_p:
    print(f"below the bar: F1 {f1:.3f} (min {min_f1}), precision {p:.3f} (min {min_p})")
    sys.exit(1)
PY
