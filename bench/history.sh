#!/usr/bin/env bash
# History-scan speed (issue 5): `tripline secrets --git` against kingfisher
# with git history on, side by side, on the repository that
# bench/make-history-repo.sh builds (the benchmark corpus in 200 commits).
#
# Usage: bench/history.sh [REPO_DIR]          (default: /tmp/tripline-history-repo)
# Environment:
#   TRIPLINE    tripline binary    (default: target/release/tripline)
#   KINGFISHER  kingfisher binary  (default: kingfisher on PATH)
#   RUNS        timed runs per tool (default: 5)
#   BENCH_OUT   where reports and logs go (default: a new /tmp/tripline-bench.*)
#
# Both tools are given the repository's path, as a user would: tripline reads
# every blob reachable from all refs (`--git` with no revisions); kingfisher
# with `--git-history full` (its default, spelled out) does the same and also
# looks at the checked-out files. One untimed warm-up run each (page cache,
# kingfisher's rule cache), then RUNS rounds alternating the tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

repo=${1:-/tmp/tripline-history-repo}
git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 ||
  die "$repo is not a git repository (build it: bench/make-history-repo.sh)"
repo=$(cd "$repo" && pwd)
tripline=${TRIPLINE:-$here/../target/release/tripline}
[ -x "$tripline" ] || die "no tripline binary at $tripline (cargo build --release, or set TRIPLINE)"
tripline=$(cd "$(dirname "$tripline")" && pwd)/$(basename "$tripline")
kingfisher=${KINGFISHER:-$(command -v kingfisher || true)}
[ -n "$kingfisher" ] || die "kingfisher not found (pip install kingfisher-bin==2.14.0, or set KINGFISHER)"
runs=${RUNS:-5}
need_gnu_time
need python3
out=${BENCH_OUT:-$(mktemp -d /tmp/tripline-bench.XXXXXX)}
mkdir -p "$out"

commits=$(git -C "$repo" rev-list --all --count)
blobs=$(git -C "$repo" rev-list --all --objects | cut -d' ' -f1 |
  git -C "$repo" cat-file --batch-check='%(objecttype) %(objectsize)' |
  awk '$1 == "blob" { n++; s += $2 } END { printf "%d %d\n", n, s }')
read -r nblobs blob_bytes <<<"$blobs"
echo "repository: $repo ($commits commits, $nblobs blobs, $blob_bytes bytes); logs in $out" >&2

tools=(tripline kingfisher)
tool_cmd() {
  case $1 in
  tripline) printf '%s\n' "$tripline" secrets --git "$repo" --format json -o "$2" --fail-on never ;;
  kingfisher) printf '%s\n' "$kingfisher" scan "$repo" --git-history full --no-validate --format json --output "$2" --no-update-check ;;
  esac
}
tool_display() {
  case $1 in
  tripline) echo 'tripline secrets --git REPO --format json -o F --fail-on never' ;;
  kingfisher) echo 'kingfisher scan REPO --git-history full --no-validate --format json --output F --no-update-check' ;;
  esac
}
tool_ok() {
  case $1:$2 in
  tripline:0 | kingfisher:0 | kingfisher:200) return 0 ;;
  *) return 1 ;;
  esac
}

declare -A walls peaks status
echo "warming the page cache" >&2
warm_cache "$repo/.git"
run_side_by_side "$out/history." "$runs" "${tools[@]}"

count() {
  python3 - "$1" <<'EOF'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
    print(sum(1 for f in doc["findings"] if not f.get("suppressed")))
except Exception as e:
    print("error: %s" % e, file=sys.stderr)
    print("?")
EOF
}

# shellcheck disable=SC2086 # word splitting of the number lists is intended
{
  base=nan # no ratios against a tripline that failed
  [ "${status[tripline]}" != ok ] || base=$(median ${walls[tripline]})
  echo
  echo "Repository \`$repo\`: $commits commits, $nblobs blobs, $blob_bytes blob bytes. $(machine_line)."
  echo "Median of $runs whole-process runs, warm page cache, tools alternating per round."
  echo
  echo "| tool | command | wall s (median) | runs (s) | MB/s of blobs | peak RSS MiB (max) | findings | wall / tripline |"
  echo "|---|---|---|---|---|---|---|---|"
  for t in "${tools[@]}"; do
    w=$(median ${walls[$t]})
    n=$(count "$out/history.$t.json")
    [ "${status[$t]}" = ok ] || n="$n (${status[$t]}!)"
    printf '| %s | `%s` | %.2f | %s | %s | %s | %s | %s |\n' "$t" "$(tool_display "$t")" "$w" \
      "$(printf '%s\n' ${walls[$t]} | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')" \
      "$(awk -v s="$w" -v b="$blob_bytes" 'BEGIN { if (s > 0) printf "%.0f", b / s / 1e6; else print "-" }')" \
      "$(awk -v k="$(max ${peaks[$t]})" 'BEGIN { printf "%.0f", k / 1024 }')" "$n" \
      "$(awk -v a="$w" -v b="$base" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else print "-" }')"
  done
  echo
  if [ "${status[tripline]}" = ok ] && [ "${status[kingfisher]}" = ok ]; then
    awk -v k="$(median ${walls[kingfisher]})" -v t="$base" \
      'BEGIN { printf "kingfisher / tripline wall time: %.2fx (issue 5 asks for at least 3x)\n", k / t }'
  else
    echo "no ratio: a tool failed (see its row and the logs)"
  fi
}
echo "reports and logs: $out" >&2
