#!/usr/bin/env python3
"""Parity of `tripline deps` with the PyPI oracle on real Python lockfiles.

Usage: bench/deps-parity-pypi.py TRIPLINE_BIN SHARED_DIR

For each case folder SHARED_DIR/deps-oracle-pypi/NAME/, runs
`tripline deps NAME --pypi-db SHARED_DIR/advisory-db-pypi --offline
--format json` and compares the set of (advisory id, package, version) of
all its findings with NAME.expected.json. tripline merges records that alias
each other into one finding, so an expected id matches a finding whose id or
one of whose aliases it is; every finding must match an expected entry and
every expected entry a finding. Prints the counts; exits 1 on any difference.
"""
import json
import os
import subprocess
import sys


def main():
    tripline, shared = sys.argv[1], sys.argv[2]
    oracle = os.path.join(shared, "deps-oracle-pypi")
    db = os.path.join(shared, "advisory-db-pypi")
    cases = sorted(
        n for n in os.listdir(oracle) if os.path.isdir(os.path.join(oracle, n))
    )
    if not cases:
        sys.exit(f"no cases in {oracle}")
    failed = False
    for name in cases:
        with open(os.path.join(oracle, name + ".expected.json")) as f:
            expected = {
                (e["id"], e["package"], e["version"]) for e in json.load(f)["findings"]
            }
        run = subprocess.run(
            [tripline, "deps", os.path.join(oracle, name), "--pypi-db", db,
             "--offline", "--format", "json", "--fail-on", "never"],
            capture_output=True, text=True,
        )
        if run.returncode != 0:
            print(f"{name}: tripline exited {run.returncode}: {run.stderr.strip()}")
            failed = True
            continue
        report = json.loads(run.stdout)
        errors = report.get("errors", [])
        findings = [f for f in report["findings"] if f.get("dependency") and not f.get("suppressed")]
        got = set()
        unmatched = []
        for f in findings:
            d = f["dependency"]
            ids = {f["rule_id"], *d.get("aliases", [])}
            hits = {e for e in expected if e[0] in ids and e[1] == d["package"] and e[2] == d["version"]}
            if not hits:
                unmatched.append((f["rule_id"], d["package"], d["version"]))
            got |= hits
        missing = sorted(expected - got)
        ok = not missing and not unmatched and not errors
        print(f"{name}: expected {len(expected)}, reported {len(findings)}, "
              f"matched {len(got)}{'' if ok else '  MISMATCH'}")
        for m in missing:
            print(f"  missing: {m}")
        for u in unmatched:
            print(f"  extra:   {u}")
        for e in errors:
            print(f"  error:   {e}")
        failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
