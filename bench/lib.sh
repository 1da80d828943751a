# Shared helpers for the bench/ scripts: sourced, not run.
#
# Timing is whole-process: wall time is taken by the shell around the
# command (bash's EPOCHREALTIME, microseconds), peak memory from GNU time's
# `Maximum resident set size` (`/usr/bin/time -v`, the same wait4 rusage any
# user would see). The command itself runs exactly as a user would type it.

# die MESSAGE: print to stderr and exit 2.
die() {
  echo "bench: $*" >&2
  exit 2
}

# need PROGRAM...: fail early, naming what is missing and how to get it.
need() {
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 || die "'$p' not found (see bench/README.md, Setup)"
  done
}

# need_gnu_time: /usr/bin/time must be GNU time (for -v).
need_gnu_time() {
  [ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
  # Captured first: `grep -q` quits at its match, and under pipefail the
  # SIGPIPE that time then gets would read as "not GNU time".
  local probe
  probe=$(/usr/bin/time -v true 2>&1 || true)
  [[ $probe == *'Maximum resident set size'* ]] ||
    die "/usr/bin/time is not GNU time: apt-get install time"
}

# now_us: wall clock in microseconds.
now_us() {
  local t=${EPOCHREALTIME/./}
  echo "$t"
}

# timed_run LOG CMD...: run CMD under `/usr/bin/time -v -o LOG`, stdout and
# stderr to LOG.out. Prints "WALL_SECONDS PEAK_KIB EXIT_STATUS".
timed_run() {
  local log=$1
  shift
  local t0 t1 rc=0
  t0=$(now_us)
  /usr/bin/time -v -o "$log" "$@" >"$log.out" 2>&1 || rc=$?
  t1=$(now_us)
  local kib
  kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  # GNU time reports the command's own status in its log when it exits non-zero.
  local st
  st=$(awk -F': ' '/Exit status/ {print $2}' "$log")
  [ -n "$st" ] && rc=$st
  awk -v a="$t0" -v b="$t1" -v k="${kib:-0}" -v r="$rc" 'BEGIN { printf "%.4f %d %d\n", (b - a) / 1e6, k, r }'
}

# median NUMBER...: the median (mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# max NUMBER...
max() {
  printf '%s\n' "$@" | sort -g | tail -n 1
}

# tree_bytes DIR: total size of the regular files under DIR (what a scanner reads).
tree_bytes() {
  find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'
}

# tree_files DIR: number of regular files under DIR.
tree_files() {
  find "$1" -type f | wc -l
}

# warm_cache DIR: read every file once so that runs measure a warm page cache.
warm_cache() {
  find "$1" -type f -print0 | xargs -0 -P2 -n 500 cat >/dev/null
}

# machine_line: one line describing where the figures come from.
machine_line() {
  local cpu
  cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
  printf '%s UTC; %s cores (%s); %s GiB RAM; load %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M')" "$(nproc)" "${cpu:-unknown CPU}" \
    "$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# run_side_by_side PREFIX RUNS TOOL...: one untimed warm-up run of each tool
# (fills caches such as kingfisher's compiled rules), then RUNS rounds in
# which every tool runs once in turn, so that noise from a shared machine
# falls on all tools alike. The caller defines `tool_cmd TOOL REPORT` (the
# command, one word per line), `tool_ok TOOL STATUS`, optionally
# `tool_runs TOOL` (runs for that tool, default RUNS), and declares the
# associative arrays `walls`, `peaks` and `status`, which this fills: wall
# seconds and peak KiB per run, and "ok" or the failing exit. Logs and
# reports go to PREFIX<tool>.*.
run_side_by_side() {
  local prefix=$1 rounds=$2 t r wall kib rc
  shift 2
  local -a cmd
  for t in "$@"; do
    walls[$t]=""
    peaks[$t]=""
    status[$t]=ok
    mapfile -t cmd < <(tool_cmd "$t" "$prefix$t.warmup.json")
    read -r wall _ rc < <(timed_run "$prefix$t.warmup.log" "${cmd[@]}")
    echo "warm-up: $t ${wall}s exit $rc" >&2
    if ! tool_ok "$t" "$rc"; then
      echo "bench: $t exited $rc on warm-up; last lines of its output:" >&2
      tail -n 5 "$prefix$t.warmup.log.out" >&2 || true
      status[$t]="exit $rc"
    fi
  done
  for ((r = 1; r <= rounds; r++)); do
    for t in "$@"; do
      if declare -F tool_runs >/dev/null; then
        [ "$r" -le "$(tool_runs "$t")" ] || continue
      fi
      mapfile -t cmd < <(tool_cmd "$t" "$prefix$t.json")
      read -r wall kib rc < <(timed_run "$prefix$t.$r.log" "${cmd[@]}")
      tool_ok "$t" "$rc" || status[$t]="exit $rc"
      walls[$t]+=" $wall"
      peaks[$t]+=" $kib"
      echo "round $r: $t ${wall}s $((kib / 1024))MiB exit $rc" >&2
    done
  done
}
