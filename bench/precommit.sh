#!/usr/bin/env bash
# Pre-commit latency (issue 5): `tripline secrets --staged` against `git status`
# in a repository of 10,000 files with 3 staged modified files.
#
# Usage: bench/precommit.sh [REPO_DIR]        (default: /tmp/tripline-precommit-repo)
#   REPO_DIR is created when it does not exist: the first NFILES files (in
#   byte order of their paths) of CORPUS, committed once, then 3 of its .rs
#   files get one added line each and are staged.
# Environment:
#   TRIPLINE    tripline binary          (default: target/release/tripline)
#   KINGFISHER  kingfisher binary        (default: kingfisher on PATH; its
#               `--staged` mode is timed as a peer when found)
#   CORPUS      source of the files      (default: /tmp/corpus/full)
#   NFILES      files in the repository  (default: 10000)
#   ROUNDS      hyperfine rounds, commands alternate between rounds (default: 3)
#   RUNS        timed runs per command per round (default: 10)
#   BENCH_OUT   where logs go            (default: a new /tmp/tripline-bench.*)
#
# Timing is hyperfine (`-N`: no shell between it and the command) with
# warm-up runs, so both commands run with a warm page cache and a fresh
# index stat cache, as in a real pre-commit hook. Peak memory is one extra
# run of each under /usr/bin/time -v.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

repo=${1:-/tmp/tripline-precommit-repo}
tripline=${TRIPLINE:-$here/../target/release/tripline}
[ -x "$tripline" ] || die "no tripline binary at $tripline (cargo build --release, or set TRIPLINE)"
tripline=$(cd "$(dirname "$tripline")" && pwd)/$(basename "$tripline")
kingfisher=${KINGFISHER:-$(command -v kingfisher || true)}
corpus=${CORPUS:-/tmp/corpus/full}
nfiles=${NFILES:-10000}
rounds=${ROUNDS:-3}
runs=${RUNS:-10}
need git hyperfine python3
need_gnu_time
out=${BENCH_OUT:-$(mktemp -d /tmp/tripline-bench.XXXXXX)}
mkdir -p "$out"

# Deterministic commits: the same corpus gives the same repository.
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z

if [ ! -d "$repo" ]; then
  [ -d "$corpus" ] || die "no corpus at $corpus (set CORPUS, or build it: ../shared/bench/make-corpus.sh /tmp/corpus)"
  echo "creating $repo: $nfiles files from $corpus" >&2
  mkdir -p "$repo.tmp"
  # Via files, not a pipe into head: under pipefail, head closing the pipe
  # early would fail the whole command.
  (cd "$corpus" && find . -type f -print0) | LC_ALL=C sort -z >"$out/all-files"
  head -z -n "$nfiles" "$out/all-files" >"$out/repo-files"
  (cd "$corpus" && tar --null -T "$out/repo-files" -cf -) | tar -C "$repo.tmp" -xf -
  (
    cd "$repo.tmp"
    git init -q -b main
    # -f: vendored crates carry .gitignore files; every file is tracked.
    git add -f -A
    git commit -q -m "$nfiles files"
    got=$(git ls-files | wc -l)
    [ "$got" -eq "$nfiles" ] || echo "bench: only $got files in the corpus; the repository has $got" >&2
    # Three modified files, staged: one added line each, no secret in it.
    n=0
    while IFS= read -r -d '' f; do
      printf '\n// pre-commit benchmark edit %d\nfn bench_edit_%d() -> u32 { %d }\n' "$n" "$n" "$n" >>"$f"
      git add -- "$f"
      n=$((n + 1))
      [ "$n" -lt 3 ] || break
    done < <(git ls-files -z -- '*.rs' | head -z -n 3)
  )
  mv "$repo.tmp" "$repo"
fi
cd "$repo"
git rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git repository"
tracked=$(git ls-files | wc -l)
staged=$(git diff --cached --name-only | wc -l)
echo "repository: $repo ($tracked tracked files, $staged staged)" >&2

# The commands, as a hook would run them (inside the repository).
names=("git status" "tripline secrets --staged" "tripline secrets --staged --all-lines")
cmds=("git status" "$tripline secrets --staged" "$tripline secrets --staged --all-lines")
if [ -n "$kingfisher" ]; then
  names+=("kingfisher scan . --staged --no-validate --no-update-check")
  cmds+=("$kingfisher scan . --staged --no-validate --no-update-check")
fi

# One plain run each first: its exit status says whether the result is usable
# (a clean staged change must pass: exit 0).
declare -a exits peaks
for i in "${!cmds[@]}"; do
  read -r _ kib rc < <(timed_run "$out/precommit.$i.log" ${cmds[$i]})
  exits[$i]=$rc
  peaks[$i]=$kib
  [ "$rc" -eq 0 ] || {
    echo "bench: '${names[$i]}' exited $rc; last lines of its output:" >&2
    tail -n 5 "$out/precommit.$i.log.out" >&2
  }
done

# Rounds of hyperfine; each round times every command.
for ((r = 1; r <= rounds; r++)); do
  hyperfine -N -i --style none --warmup 3 --runs "$runs" \
    --export-json "$out/precommit.round$r.json" "${cmds[@]}" >"$out/precommit.round$r.txt" 2>&1 ||
    die "hyperfine failed: see $out/precommit.round$r.txt"
done

python3 - "$out" "$rounds" "${names[@]}" -- "${exits[@]}" -- "${peaks[@]}" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rest = sys.argv[3:]
i = rest.index("--"); names = rest[:i]; rest = rest[i + 1:]
i = rest.index("--"); exits = rest[:i]; peaks = rest[i + 1:]
times = [[] for _ in names]
for r in range(1, rounds + 1):
    doc = json.load(open("%s/precommit.round%d.json" % (out, r)))
    for k, res in enumerate(doc["results"]):
        times[k].extend(res["times"])
med = [statistics.median(t) for t in times]
print("| command | median ms | min ms | max ms | runs | peak RSS MiB | exit | / git status |")
print("|---|---|---|---|---|---|---|---|")
for k, name in enumerate(names):
    t = times[k]
    ok = exits[k] == "0" and exits[0] == "0"
    print("| `%s` | %.1f | %.1f | %.1f | %d | %.1f | %s | %s |" % (
        name, med[k] * 1e3, min(t) * 1e3, max(t) * 1e3, len(t),
        int(peaks[k]) / 1024, exits[k] if exits[k] == "0" else exits[k] + " (error)",
        "%.2fx" % (med[k] / med[0]) if ok else "-"))
print()
if exits[0] == "0" and exits[1] == "0":
    print("tripline secrets --staged / git status: %.2fx (issue 5 asks for at most 2x)" % (med[1] / med[0]))
else:
    print("no ratio: a command failed (exit %s for git status, %s for tripline); its times are not a result"
          % (exits[0], exits[1]))
EOF
echo "$(machine_line); repository $repo: $tracked files, $staged staged"
echo "logs: $out" >&2
