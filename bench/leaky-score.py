#!/usr/bin/env python3
"""Score tripline on leaky-repo the way leaky-repo's own benchmark scores.

leaky-repo (../shared/corpora/leaky-repo) is a tree of planted credentials;
its `.leaky-meta/secrets.csv` counts, per file, the lines that carry a risk
and the lines that are informative. Per file, the distinct flagged lines up to
(risk + informative) are finds and the rest are false positives; every
flagged line in a file that the CSV does not list is a false positive.

The script copies the corpus to a temporary folder without `.leaky-meta/`
(so the scanner never sees the answers), runs
`tripline scan DIR --format json -o OUT --fail-on never`, prints the totals
and a per-file table, and exits 1 when finds < --min-finds or false
positives > --max-fp. `--json FILE` scores an existing report instead.

Usage:
  bench/leaky-score.py [--tripline BIN] [--corpus DIR] [--min-finds N]
                       [--max-fp N] [--json REPORT] [-- EXTRA SCAN ARGS]
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile


def expected_counts(csv_path):
    """{relative path: (risk, informative)} from leaky-repo's secrets.csv."""
    counts = {}
    with open(csv_path, encoding="utf-8") as f:
        rows = [l for l in f if l.strip() and not l.startswith("#")]
    for row in csv.reader(rows):
        name = row[0].strip().lstrip("/")
        counts[name] = (int(row[1]), int(row[2]))
    return counts


def flagged_lines(report):
    """{relative path: {line: set(rule ids)}} from a tripline JSON report."""
    lines = {}
    for finding in report.get("findings", []):
        # A suppressed finding is reported for audit, not as a detection.
        if finding.get("suppressed"):
            continue
        loc = finding.get("location") or {}
        path = loc.get("path")
        line = loc.get("start_line")
        if path is None or line is None:
            continue
        path = path.replace("\\", "/")
        while path.startswith("./"):
            path = path[2:]
        rule = finding.get("rule_id") or finding.get("rule") or "?"
        lines.setdefault(path, {}).setdefault(line, set()).add(rule)
    return lines


def run_scan(tripline, corpus, extra):
    """Scan a copy of the corpus without .leaky-meta/; return the report."""
    with tempfile.TemporaryDirectory(prefix="leaky-score-") as tmp:
        tree = os.path.join(tmp, "leaky-repo")
        shutil.copytree(
            corpus,
            tree,
            ignore=lambda d, names: [n for n in names if n in (".leaky-meta", ".git")]
            if os.path.samefile(d, corpus)
            else [],
        )
        out = os.path.join(tmp, "report.json")
        cmd = [tripline, "scan", tree, "--format", "json", "-o", out, "--fail-on", "never"] + extra
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0 or not os.path.exists(out):
            sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
            sys.exit("leaky-score: `%s` failed with status %d" % (" ".join(cmd), proc.returncode))
        with open(out, encoding="utf-8") as f:
            return json.load(f)


def score(counts, lines):
    """Per-file rows (path, expected, finds, fps, rules) and the totals."""
    rows = []
    for path in sorted(set(counts) | set(lines)):
        risk, info = counts.get(path, (0, 0))
        expected = risk + info
        flagged = lines.get(path, {})
        finds = min(len(flagged), expected)
        fps = len(flagged) - finds
        rules = sorted({r for rs in flagged.values() for r in rs})
        rows.append((path, expected, finds, fps, rules, sorted(flagged)))
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tripline", default=os.path.join(here, "..", "target", "release", "tripline"))
    ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpora", "leaky-repo"))
    ap.add_argument("--min-finds", type=int, default=0)
    ap.add_argument("--max-fp", type=int, default=None)
    ap.add_argument("--json", help="score this report instead of running a scan")
    ap.add_argument("-v", "--verbose", action="store_true", help="show flagged line numbers")
    ap.add_argument("extra", nargs="*", help="extra arguments for `tripline scan` (after --)")
    args = ap.parse_args()

    counts = expected_counts(os.path.join(args.corpus, ".leaky-meta", "secrets.csv"))
    if args.json:
        with open(args.json, encoding="utf-8") as f:
            report = json.load(f)
    else:
        report = run_scan(args.tripline, args.corpus, args.extra)
    rows = score(counts, flagged_lines(report))

    total_expected = sum(r + i for r, i in counts.values())
    finds = sum(r[2] for r in rows)
    fps = sum(r[3] for r in rows)
    files = sum(1 for r in rows if r[2] > 0 and r[0] in counts)

    width = max(len(r[0]) for r in rows) + 2
    print("%-*s %9s %4s  %s" % (width, "file", "found/exp", "FP", "rules"))
    for path, expected, found, fp, rules, flagged in sorted(rows, key=lambda r: (-r[2], r[0])):
        mark = "" if path in counts else "  (not in CSV)"
        extra = "  lines %s" % flagged if args.verbose else ""
        print("%-*s %4d/%-4d %4d  %s%s%s" % (width, path, found, expected, fp, ",".join(rules), mark, extra))
    print()
    print("finds: %d/%d  false positives: %d  files: %d/%d" % (finds, total_expected, fps, files, len(counts)))

    failed = finds < args.min_finds or (args.max_fp is not None and fps > args.max_fp)
    if failed:
        print("FAIL: below the bar (finds >= %d, false positives <= %s)" % (args.min_finds, args.max_fp))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
