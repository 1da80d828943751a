#!/usr/bin/env python3
"""Trains the decision stage of tripline's model-decided rules.

Inputs (nothing of them enters the repository):
  DUMP     candidates.tsv from `cargo run --release --example dump_candidates -- DATA`
  DATASET  the CredData development set (../shared/corpora/creddata-dev)
  REPORT   tripline's JSON report on DATA (the findings of the other rules,
           which the model does not decide but which count in the figures)

A candidate is positive when its lines meet a T location, negative when they
meet none; candidates that meet only UUID locations are left out (the bar
excludes them). Cross-validation is split by repository (GroupKFold on the
repository id, the first folder of the path); the repository and file are
never features. The reporting threshold is chosen on the out-of-fold scores
(best F1 with precision >= --min-precision), then the model is refitted on
everything and written in the format `src/secrets/decide.rs` reads.

Usage:
  train.py DUMP DATASET REPORT OUT_MODEL [--trees N] [--depth D] [--min-precision P]
"""
import argparse
import collections
import csv
import glob
import json
import os
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold


def load_t_locations(dataset):
    t = collections.defaultdict(list)        # path -> [(ls, le, only_uuid)]
    cats = collections.defaultdict(set)
    for meta in sorted(glob.glob(os.path.join(dataset, "meta", "*.csv"))):
        with open(meta, newline="") as f:
            for r in csv.DictReader(f):
                if r["GroundTruth"] != "T":
                    continue
                path = r["FilePath"][len("data/"):]
                cats[(path, int(r["LineStart"]), int(r["LineEnd"]))].add(r["Category"])
    for (path, ls, le), c in cats.items():
        t[path].append((ls, le, c == {"UUID"}))
    return t


def hit(t, path, ls, le):
    """1 meets a counted T location, None meets only UUID ones, 0 none."""
    res = 0
    for (a, b, uuid) in t.get(path, ()):
        if ls <= b and a <= le:
            if not uuid:
                return 1
            res = None
    return res


def figures(t, findings):
    """precision, recall, F1 as score.py counts them (UUID-only excluded)."""
    found = set()
    fp = set()
    for (path, ls, le) in findings:
        met = False
        neutral = False
        for (a, b, uuid) in t.get(path, ()):
            if ls <= b and a <= le:
                if uuid:
                    neutral = True
                else:
                    found.add((path, a, b))
                    met = True
        if not met and not neutral:
            fp.add((path, ls))
    total = sum(1 for locs in t.values() for l in locs if not l[2])
    tp = len(found)
    p = tp / max(1, tp + len(fp))
    r = tp / max(1, total)
    f1 = 2 * p * r / max(1e-9, p + r)
    return p, r, f1


def export(model, path, report_at, medium_at, high_at, n_features):
    """Writes the ensemble as decide.rs reads it. HistGradientBoosting's
    leaves already carry the learning rate; a sample goes left when its
    feature is at most the threshold (the features have no missing values)."""
    base = float(np.ravel(model._baseline_prediction)[0])
    lines = [
        "tripline-keyed-model 1",
        "# Written by bench/train/train.py: a gradient-boosted tree ensemble over",
        "# src/secrets/decide.rs features. Node: FEATURE THRESHOLD LEFT RIGHT VALUE.",
        f"features {n_features}",
        f"base {base!r}",
        f"report {report_at:.4f} medium {medium_at:.4f} high {high_at:.4f}",
    ]
    for (pred,) in model._predictors:
        lines.append("tree")
        for n in pred.nodes:
            if n["is_leaf"]:
                lines.append("-1 0 0 0 %r" % float(n["value"]))
            else:
                lines.append("%d %r %d %d 0" % (n["feature_idx"], float(n["num_threshold"]),
                                                n["left"], n["right"]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def replay(path, X):
    """Scores X the way decide.rs does, from the written file."""
    trees, base = [], 0.0
    for line in open(path):
        w = line.split()
        if not w or w[0].startswith("#") or w[0] in ("tripline-keyed-model", "features", "report"):
            continue
        if w[0] == "base":
            base = float(w[1])
        elif w[0] == "tree":
            trees.append([])
        else:
            trees[-1].append((int(w[0]), float(w[1]), int(w[2]), int(w[3]), float(w[4])))
    out = np.full(len(X), base)
    for tree in trees:
        for k, x in enumerate(X):
            i = 0
            while tree[i][0] >= 0:
                f, thr, l, r, _ = tree[i]
                i = l if float(x[f]) <= thr else r
            out[k] += tree[i][4]
    return 1 / (1 + np.exp(-out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("dataset")
    ap.add_argument("report")
    ap.add_argument("out")
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--min-leaf", type=int, default=20)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--min-precision", type=float, default=0.85)
    ap.add_argument("--oof", help="write the out-of-fold scores here (one per candidate row)")
    a = ap.parse_args()

    t = load_t_locations(a.dataset)
    rows, X, y, groups = [], [], [], []
    with open(a.dump) as f:
        header = f.readline().rstrip("\n").split("\t")
        names = header[5:]
        for line in f:
            c = line.rstrip("\n").split("\t")
            path, rule, ls, le = c[0], c[1], int(c[2]), int(c[3])
            label = hit(t, path, ls, le)
            if label is None:
                continue
            rows.append((path, ls, le, rule))
            X.append([float(v) for v in c[5:]])
            y.append(label)
            groups.append(path.split("/")[0])
    X = np.array(X, dtype=np.float32)
    y = np.array(y)
    model_rules = {r[3] for r in rows}
    report = json.load(open(a.report))
    fixed = [(f["location"]["path"], f["location"]["start_line"], f["location"]["end_line"])
             for f in report["findings"] if f["rule_id"] not in model_rules]
    print(f"candidates {len(y)} (positive {y.sum()}), other rules' findings {len(fixed)}, "
          f"features {len(names)}", file=sys.stderr)

    def fit(Xt, yt):
        m = HistGradientBoostingClassifier(max_iter=a.trees, max_depth=a.depth,
                                           learning_rate=a.lr, l2_regularization=a.l2,
                                           min_samples_leaf=a.min_leaf, early_stopping=False,
                                           random_state=18)
        return m.fit(Xt, yt)

    def at(scores, thr):
        return figures(t, fixed + [r[:3] for r, s in zip(rows, scores) if s >= thr])

    oof = np.zeros(len(y))
    train_p = np.zeros(len(y))
    for k, (tr, te) in enumerate(GroupKFold(n_splits=5).split(X, y, groups)):
        m = fit(X[tr], y[tr])
        oof[te] = m.predict_proba(X[te])[:, 1]
    if a.oof:
        with open(a.oof, "w") as f:
            for r, s, l in zip(rows, oof, y):
                f.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{l}\t{s:.4f}\n")
    for thr in (0.2, 0.3, 0.4, 0.5, 0.7, 0.9):
        print("  out-of-fold at %.1f: P %.3f R %.3f F1 %.3f" % ((thr,) + at(oof, thr)), file=sys.stderr)
    full = fit(X, y)
    train_p = full.predict_proba(X)[:, 1]

    best = None
    for thr in np.arange(0.1, 0.96, 0.02):
        p, r, f1 = at(oof, thr)
        if p >= a.min_precision and (best is None or f1 > best[3]):
            best = (thr, p, r, f1)
    if best is None:
        best = (0.9,) + at(oof, 0.9)
    thr = float(best[0])
    print("cross-validated (GroupKFold by repository, 5 folds) at threshold %.2f: "
          "P %.3f R %.3f F1 %.3f" % best, file=sys.stderr)
    print("train (refit on all) at threshold %.2f: P %.3f R %.3f F1 %.3f"
          % ((thr,) + at(train_p, thr)), file=sys.stderr)
    export(full, a.out, thr, max(thr, 0.75), max(thr, 0.92), len(names))
    sample = X[:2000]
    diff = np.abs(replay(a.out, sample) - full.predict_proba(sample)[:, 1]).max()
    print(f"written {a.out}; replayed scores differ from sklearn's by at most {diff:.2e}",
          file=sys.stderr)
    assert diff < 1e-6


if __name__ == "__main__":
    main()
