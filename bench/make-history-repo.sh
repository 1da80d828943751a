#!/usr/bin/env bash
# Build the history benchmark repository (issue 5): the benchmark corpus
# committed in 200 commits.
#
# Usage: bench/make-history-repo.sh [CORPUS_DIR] [OUT_DIR] [COMMITS]
#   defaults: /tmp/corpus/full  /tmp/tripline-history-repo  200
#
# The corpus's files, in byte order of their paths, are cut into COMMITS
# consecutive slices of (nearly) equal file count; commit k adds slice k, so
# the last commit's tree is the whole corpus and every blob is reachable from
# exactly one commit. Author, committer and dates are fixed, so the same
# corpus always gives the same commit ids. The repository is then packed
# (`git repack -a -d`), as a clone from a server would be; PACK=0 leaves the
# objects loose.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

corpus=${1:-/tmp/corpus/full}
repo=${2:-/tmp/tripline-history-repo}
commits=${3:-200}
need git
[ -d "$corpus" ] || die "no corpus at $corpus (build it: ../shared/bench/make-corpus.sh /tmp/corpus)"
[ ! -e "$repo" ] || die "$repo exists; remove it first"
corpus=$(cd "$corpus" && pwd)

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

tmp=$repo.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
list=$(mktemp)
trap 'rm -f "$list" "$list".*' EXIT
(cd "$corpus" && find . -type f -printf '%P\0' | LC_ALL=C sort -z) >"$list"
total=$(tr -cd '\0' <"$list" | wc -c)
[ "$total" -ge "$commits" ] || die "only $total files in $corpus, fewer than $commits commits"
echo "committing $total files of $corpus in $commits commits into $repo" >&2

git -C "$tmp" init -q -b main
start=$(date -d 2026-01-01T00:00:00Z +%s)
for ((k = 0; k < commits; k++)); do
  from=$((k * total / commits))
  to=$(((k + 1) * total / commits))
  # Slice k of the NUL-separated list: entries from+1 .. to.
  tr '\0\n' '\n\0' <"$list" | sed -n "$((from + 1)),${to}p" | tr '\0\n' '\n\0' >"$list.slice"
  (cd "$corpus" && tar --null -T "$list.slice" -cf -) | tar -C "$tmp" -xf -
  # -f: vendored crates carry .gitignore files; every file is tracked.
  # Literal pathspecs: a file name holding `*` or `[` is a name, not a glob.
  GIT_LITERAL_PATHSPECS=1 git -C "$tmp" add -f --pathspec-from-file="$list.slice" --pathspec-file-nul
  when="@$((start + k * 3600)) +0000"
  GIT_AUTHOR_DATE=$when GIT_COMMITTER_DATE=$when \
    git -C "$tmp" commit -q -m "bench history commit $((k + 1)) of $commits: files $((from + 1))..$to"
  [ $(((k + 1) % 20)) -ne 0 ] || echo "  $((k + 1)) commits" >&2
done
if [ "${PACK:-1}" = 1 ]; then
  echo "packing" >&2
  git -C "$tmp" repack -a -d -q
  git -C "$tmp" prune-packed
fi
mv "$tmp" "$repo"
echo "$repo: $(git -C "$repo" rev-list --count HEAD) commits, $(git -C "$repo" ls-files | wc -l) files," \
  "$(du -sh "$repo/.git" | cut -f1) in .git, HEAD $(git -C "$repo" rev-parse HEAD)"
