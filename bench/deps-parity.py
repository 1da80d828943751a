#!/usr/bin/env python3
"""Parity of `tripline deps` with cargo-audit on real lockfiles.

Usage: bench/deps-parity.py TRIPLINE_BIN SHARED_DIR

For each SHARED_DIR/deps-oracle/NAME.Cargo.lock, runs tripline on a copy of
it (as Cargo.lock in a temporary folder) against SHARED_DIR/advisory-db and
compares, per kind (vulnerability, unmaintained, unsound, notice), the set of
(advisory id, package, version) with the cargo-audit JSON beside it
(NAME.cargo-audit.json). Prints the counts; exits 1 on any difference.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

KINDS = ("vulnerability", "unmaintained", "unsound", "notice")


def oracle_sets(path):
    with open(path) as f:
        data = json.load(f)
    sets = {k: set() for k in KINDS}
    for v in data["vulnerabilities"]["list"]:
        sets["vulnerability"].add((v["advisory"]["id"], v["package"]["name"], v["package"]["version"]))
    for kind, warnings in data.get("warnings", {}).items():
        if kind not in sets:
            continue  # yanked: not part of the comparison (--no-yanked)
        for w in warnings:
            adv = w.get("advisory") or {}
            sets[kind].add((adv.get("id"), w["package"]["name"], w["package"]["version"]))
    return sets


def tripline_sets(binary, lockfile, db):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(lockfile, os.path.join(tmp, "Cargo.lock"))
        proc = subprocess.run(
            [binary, "deps", tmp, "--db", db, "--offline", "--format", "json",
             "--fail-on", "never", "--quiet"],
            capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"tripline failed on {lockfile} (exit {proc.returncode}):\n{proc.stderr}")
        data = json.loads(proc.stdout)
    sets = {k: set() for k in KINDS}
    for f in data["findings"]:
        # cargo-audit drops ignored advisories; tripline reports them suppressed.
        if f["kind"] in sets and not f.get("suppressed"):
            d = f["dependency"]
            sets[f["kind"]].add((f["rule_id"], d["package"], d["version"]))
    return sets


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, shared = sys.argv[1], sys.argv[2]
    oracle_dir = os.path.join(shared, "deps-oracle")
    db = os.path.join(shared, "advisory-db")
    locks = sorted(f for f in os.listdir(oracle_dir) if f.endswith(".Cargo.lock"))
    if not locks:
        sys.exit(f"no *.Cargo.lock in {oracle_dir}")
    failed = False
    for name in locks:
        stem = name[: -len(".Cargo.lock")]
        want = oracle_sets(os.path.join(oracle_dir, stem + ".cargo-audit.json"))
        got = tripline_sets(binary, os.path.join(oracle_dir, name), db)
        for kind in KINDS:
            missing, extra = want[kind] - got[kind], got[kind] - want[kind]
            status = "ok" if not missing and not extra else "DIFFERENT"
            print(f"{stem:24} {kind:13} cargo-audit {len(want[kind]):3}  tripline {len(got[kind]):3}  {status}")
            for m in sorted(missing):
                print(f"    missing: {m}")
            for e in sorted(extra):
                print(f"    extra:   {e}")
            failed |= bool(missing or extra)
    print("parity: " + ("FAILED" if failed else "ok"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
