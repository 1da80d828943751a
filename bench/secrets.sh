#!/usr/bin/env bash
# Secrets-scan speed, side by side: tripline against kingfisher (and gitleaks,
# betterleaks, ripsecrets when they are on PATH) on one directory tree.
#
# Usage: bench/secrets.sh [CORPUS_DIR]        (default: /tmp/corpus/full)
# Environment:
#   TRIPLINE     tripline binary            (default: target/release/tripline)
#   KINGFISHER   kingfisher binary          (default: kingfisher on PATH)
#   RUNS         timed runs per tool        (default: 5)
#   SLOW_RUNS    timed runs for ripsecrets on a tree over 200 MB (default: 1;
#                it takes minutes per run there)
#   TOOLS        space-separated subset of: tripline tripline-1core kingfisher
#                gitleaks betterleaks ripsecrets read-floor   (default: all found)
#   BENCH_OUT    where reports and logs go  (default: a new /tmp/tripline-bench.*)
#   MAX_RSS_MIB  fail (exit 1) when tripline's peak memory exceeds this (default: 100)
#
# What it does: reads every file once (warm page cache), runs every tool once
# untimed (warms caches such as kingfisher's compiled-rule cache), then RUNS
# rounds; each round runs every tool once, in turn, so that noise from the
# shared machine spreads over all tools alike. Each run is the whole process,
# exactly the command in the table. It prints a markdown table (median wall,
# throughput, peak RSS, findings, ratio to tripline) and the 20 most frequent
# rules among tripline's findings, each with a sample location and the masked
# excerpt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

corpus=${1:-/tmp/corpus/full}
[ -d "$corpus" ] || die "no corpus at $corpus (build it: ../shared/bench/make-corpus.sh /tmp/corpus)"
corpus=$(cd "$corpus" && pwd)
tripline=${TRIPLINE:-$here/../target/release/tripline}
[ -x "$tripline" ] || die "no tripline binary at $tripline (cargo build --release, or set TRIPLINE)"
tripline=$(cd "$(dirname "$tripline")" && pwd)/$(basename "$tripline")
kingfisher=${KINGFISHER:-$(command -v kingfisher || true)}
runs=${RUNS:-5}
need_gnu_time
need python3 taskset
out=${BENCH_OUT:-$(mktemp -d /tmp/tripline-bench.XXXXXX)}
mkdir -p "$out"

bytes=$(tree_bytes "$corpus")
files=$(tree_files "$corpus")

# The tools to run, in this order.
if [ -n "${TOOLS:-}" ]; then
  read -r -a tools <<<"$TOOLS"
else
  tools=(tripline tripline-1core)
  [ -n "$kingfisher" ] && tools+=(kingfisher)
  command -v gitleaks >/dev/null 2>&1 && tools+=(gitleaks)
  command -v betterleaks >/dev/null 2>&1 && tools+=(betterleaks)
  command -v ripsecrets >/dev/null 2>&1 && tools+=(ripsecrets)
  tools+=(read-floor)
fi

# tool_cmd TOOL REPORT: the command line, one word per line (for mapfile).
tool_cmd() {
  local report=$2
  case $1 in
  tripline) printf '%s\n' "$tripline" secrets "$corpus" --format json -o "$report" --fail-on never ;;
  tripline-1core) printf '%s\n' taskset -c 0 "$tripline" secrets "$corpus" --format json -o "$report" --fail-on never ;;
  kingfisher)
    [ -n "$kingfisher" ] || die "kingfisher not found (pip install kingfisher-bin==2.14.0, or set KINGFISHER)"
    printf '%s\n' "$kingfisher" scan "$corpus" --no-validate --format json --output "$report" --no-update-check
    ;;
  gitleaks) printf '%s\n' gitleaks dir "$corpus" -f json -r "$report" --exit-code 0 ;;
  betterleaks) printf '%s\n' betterleaks "$corpus" -o "$report" ;;
  ripsecrets) printf '%s\n' ripsecrets "$corpus" ;;
  read-floor) printf '%s\n' bash -c "find \"\$0\" -type f -print0 | xargs -0 -P2 -n 500 cat | wc -c" "$corpus" ;;
  *) die "unknown tool '$1'" ;;
  esac
}

# tool_display TOOL: the command as a user types it, for the table.
tool_display() {
  case $1 in
  tripline) echo 'tripline secrets DIR --format json -o F --fail-on never' ;;
  tripline-1core) echo 'taskset -c 0 tripline secrets DIR --format json -o F --fail-on never' ;;
  kingfisher) echo 'kingfisher scan DIR --no-validate --format json --output F --no-update-check' ;;
  gitleaks) echo 'gitleaks dir DIR -f json -r F --exit-code 0' ;;
  betterleaks) echo 'betterleaks DIR -o F' ;;
  ripsecrets) echo 'ripsecrets DIR' ;;
  read-floor) echo 'find DIR -type f -print0 \| xargs -0 -P2 -n 500 cat \| wc -c' ;;
  esac
}

# tool_ok TOOL STATUS: whether STATUS is a normal exit for TOOL.
tool_ok() {
  case $1:$2 in
  tripline*:0 | kingfisher:0 | kingfisher:200 | gitleaks:0 | read-floor:0) return 0 ;;
  betterleaks:0 | betterleaks:1 | ripsecrets:0 | ripsecrets:1) return 0 ;;
  *) return 1 ;;
  esac
}

# tool_version TOOL
tool_version() {
  case $1 in
  tripline*) "$tripline" --version 2>/dev/null | head -n 1 ;;
  kingfisher) "$kingfisher" --version 2>/dev/null | head -n 1 ;;
  gitleaks) gitleaks version 2>/dev/null | head -n 1 ;;
  betterleaks) betterleaks --version 2>/dev/null | head -n 1 ;;
  ripsecrets) ripsecrets --version 2>/dev/null | head -n 1 ;;
  read-floor) echo 'cat' ;;
  esac
}

# count_findings TOOL REPORT LOG: number of findings in the tool's own output.
count_findings() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
tool, report, log = sys.argv[1:4]
try:
    if tool == "ripsecrets":
        # One line per finding on standard output.
        print(sum(1 for line in open(log + ".out", errors="replace") if line.strip()))
    elif tool == "read-floor":
        print("-")
    else:
        doc = json.load(open(report))
        findings = doc["findings"] if isinstance(doc, dict) else doc
        # tripline's suppressed findings are reported for audit, not as detections.
        print(sum(1 for f in findings if not (isinstance(f, dict) and f.get("suppressed"))))
except Exception as e:  # a missing or broken report is shown, not hidden
    print("error: %s" % e, file=sys.stderr)
    print("?")
EOF
}

tool_runs() {
  if [ "$1" = ripsecrets ] && [ "$bytes" -gt 200000000 ]; then
    echo "${SLOW_RUNS:-1}"
  else
    echo "$runs"
  fi
}

echo "corpus: $corpus ($bytes bytes in $files files); $runs runs; logs in $out" >&2
echo "warming the page cache" >&2
warm_cache "$corpus"

declare -A walls peaks status
run_side_by_side "$out/" "$runs" "${tools[@]}"

# shellcheck disable=SC2086 # word splitting of the number lists is intended
{
  base=nan # no ratios against a tripline that failed
  [ "${status[tripline]:-}" != ok ] || base=$(median ${walls[tripline]:-nan})
  echo
  echo "Corpus \`$corpus\`: $bytes bytes, $files files. $(machine_line)."
  echo "Median of $runs whole-process runs (ripsecrets: $(tool_runs ripsecrets)), warm page cache, tools alternating per round."
  echo
  echo "| tool | command | wall s (median) | runs (s) | MB/s | peak RSS MiB (max) | findings | wall / tripline |"
  echo "|---|---|---|---|---|---|---|---|"
  for t in "${tools[@]}"; do
    w=$(median ${walls[$t]})
    p=$(max ${peaks[$t]})
    if [ "$t" = read-floor ]; then
      n=-
      mem=-
    else
      n=$(count_findings "$t" "$out/$t.json" "$out/$t.$(tool_runs "$t").log")
      mem=$(awk -v k="$p" 'BEGIN { printf "%.0f", k / 1024 }')
    fi
    [ "${status[$t]}" = ok ] || n="$n (${status[$t]}!)"
    ratio=$(awk -v a="$w" -v b="$base" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else print "-" }')
    mbs=$(awk -v s="$w" -v b="$bytes" 'BEGIN { if (s > 0) printf "%.0f", b / s / 1e6; else print "-" }')
    runs_list=$(printf '%s\n' ${walls[$t]} | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')
    printf '| %s %s | `%s` | %.2f | %s | %s | %s | %s | %s |\n' \
      "$t" "$(tool_version "$t" | sed 's/^[a-z-]* //')" "$(tool_display "$t")" "$w" "$runs_list" "$mbs" "$mem" "$n" "$ratio"
  done
  if [ -n "${walls[kingfisher]:-}" ] && [ -n "${walls[tripline]:-}" ] &&
    [ "${status[kingfisher]}" = ok ] && [ "${status[tripline]}" = ok ]; then
    echo
    awk -v k="$(median ${walls[kingfisher]})" -v t="$base" \
      'BEGIN { printf "kingfisher / tripline wall time: %.2fx (issue 3 asks for at least 3x)\n", k / t }'
  fi
}

# Issue 6: the peak memory stated in the README is a bound this run checks.
max_rss_mib=${MAX_RSS_MIB:-100}
if [ -n "${peaks[tripline]:-}" ]; then
  peak_mib=$(awk -v k="$(max ${peaks[tripline]})" 'BEGIN { printf "%.0f", k / 1024 }')
  if [ "$peak_mib" -gt "$max_rss_mib" ]; then
    echo "tripline peak memory ${peak_mib} MiB is above the bound of ${max_rss_mib} MiB (MAX_RSS_MIB)" >&2
    memory_over=1
  else
    echo "tripline peak memory ${peak_mib} MiB, within the bound of ${max_rss_mib} MiB"
  fi
fi

# The 20 most frequent rules among tripline's findings (the precision check).
if [ -f "$out/tripline.json" ]; then
  echo
  echo "Top 20 tripline rules on this corpus (count, files, one sample; excerpts are masked by tripline):"
  echo
  python3 - "$out/tripline.json" <<'EOF'
import collections, json, sys
doc = json.load(open(sys.argv[1]))
groups = collections.defaultdict(list)
findings = [f for f in doc["findings"] if not f.get("suppressed")]
for f in findings:
    groups[f["rule_id"]].append(f)
print("| # | rule | findings | files | sample location | sample excerpt |")
print("|---|---|---|---|---|---|")
ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
for i, (rule, fs) in enumerate(ranked[:20], 1):
    files = len({f["location"]["path"] for f in fs})
    s = fs[0]
    loc = "%s:%s" % (s["location"]["path"], s["location"]["start_line"])
    excerpt = s.get("excerpt", "").replace("|", "\\|").replace("\n", " ")[:60]
    print("| %d | %s | %d | %d | `%s` | `%s` |" % (i, rule, len(fs), files, loc, excerpt))
print()
print("%d findings in %d rules; %d rules beyond the top 20." % (
    len(findings), len(groups), max(0, len(groups) - 20)))
EOF
fi

# kingfisher's own rule counts, for comparison (rule ids only: its JSON holds raw snippets).
if [ -f "$out/kingfisher.json" ]; then
  echo
  python3 - "$out/kingfisher.json" <<'EOF'
import collections, json, sys
doc = json.load(open(sys.argv[1]))
c = collections.Counter(f["rule"]["id"] for f in doc.get("findings", []))
print("kingfisher findings by rule: " + ", ".join("%s %d" % kv for kv in c.most_common(20)))
EOF
fi
echo "reports and logs: $out" >&2
[ -z "${memory_over:-}" ] || exit 1
