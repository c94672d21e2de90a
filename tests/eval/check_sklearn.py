#!/usr/bin/python3
"""Compares eval's image metrics with scikit-learn on random score sets (with ties, imbalance and
single-class sets). Usage: check_sklearn.py METRICS_CLI [N_SETS]"""
import json
import subprocess
import sys
import warnings

import numpy as np
from sklearn.metrics import (average_precision_score, f1_score, precision_score, recall_score,
                             roc_auc_score)

warnings.filterwarnings("ignore")  # sklearn warns on zero_division; we test those cases on purpose


def run(cli, sets):
    """All sets through one metrics_cli process; returns its JSON lines in order."""
    text = "".join(f"{float(t)!r} {len(s)}\n" + "".join(f"{float(x)!r} {int(l)}\n" for x, l in zip(s, y))
                   for s, y, t in sets)
    out = subprocess.run([cli], input=text, capture_output=True, text=True, check=True)
    return [json.loads(l) for l in out.stdout.splitlines()]


def close(a, b, what, case):
    if abs(a - b) > 1e-9:
        raise SystemExit(f"set {case}: {what}: eval {a!r} vs scikit-learn {b!r}")


def f1_at(scores, labels, t):
    # Plain counting (f1_score per candidate cut would dominate the run time).
    pred = scores >= t
    tp = int((pred & (labels == 1)).sum())
    fp = int((pred & (labels == 0)).sum())
    fn = int(((~pred) & (labels == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def main():
    cli = sys.argv[1]
    n_sets = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = np.random.default_rng(20261128)
    checked_auc = 0
    sets = []
    for case in range(n_sets):
        n = int(rng.integers(1, 120)) if case % 10 else int(rng.integers(500, 3000))
        p_anom = rng.choice([0.0, 0.1, 0.3, 0.5, 0.9, 1.0], p=[0.05, 0.2, 0.25, 0.3, 0.15, 0.05])
        labels = (rng.random(n) < p_anom).astype(int)
        scores = rng.normal(labels * rng.uniform(0, 2), 1.0)
        kind = case % 3
        if kind == 1:
            scores = np.round(scores, 1)  # many ties
        elif kind == 2:
            scores = np.round(scores * 2) / 2  # heavy ties
        scores = scores.astype(np.float32)
        threshold = np.float32(rng.choice(scores) if rng.random() < 0.5 else rng.normal(0.5, 1))
        sets.append((scores, labels, threshold))
    results = run(cli, sets)
    if len(results) != n_sets:
        raise SystemExit(f"metrics_cli answered {len(results)} of {n_sets} sets")
    for case, ((scores, labels, threshold), got) in enumerate(zip(sets, results)):
        n = len(scores)
        pred = (scores >= threshold).astype(int)
        tp = int(((pred == 1) & (labels == 1)).sum())
        fp = int(((pred == 1) & (labels == 0)).sum())
        fn = int(((pred == 0) & (labels == 1)).sum())
        tn = int(((pred == 0) & (labels == 0)).sum())
        if (got["tp"], got["fp"], got["fn"], got["tn"]) != (tp, fp, fn, tn):
            raise SystemExit(f"set {case}: confusion {got} vs {(tp, fp, fn, tn)}")
        close(got["precision"], precision_score(labels, pred, zero_division=0), "precision", case)
        close(got["recall"], recall_score(labels, pred, zero_division=0), "recall", case)
        close(got["f1"], f1_score(labels, pred, zero_division=0), "F1", case)
        if got["precision_undefined"] != (tp + fp == 0) or got["recall_undefined"] != (tp + fn == 0):
            raise SystemExit(f"set {case}: undefined flags {got}")
        if (tp + fp == 0) and "precision reported as 0" not in got["note"]:
            raise SystemExit(f"set {case}: no note for undefined precision: {got}")
        both = 0 < labels.sum() < n
        if both:
            close(got["roc_auc"], roc_auc_score(labels, scores), "ROC AUC", case)
            checked_auc += 1
        elif got["roc_auc"] != -1:
            raise SystemExit(f"set {case}: single-class ROC AUC should be -1 (undefined), got {got['roc_auc']}")
        if labels.sum() > 0:
            close(got["average_precision"], average_precision_score(labels, scores), "average precision", case)
        elif got["average_precision"] != -1:
            raise SystemExit(f"set {case}: AP without anomalies should be -1, got {got['average_precision']}")
        # The max-F1 threshold reaches the best F1 of any cut, and sits between two distinct scores.
        t = got["max_f1_threshold"]
        if labels.sum() == 0:
            if t != "nan":
                raise SystemExit(f"set {case}: max-F1 threshold without anomalies should be NaN, got {t}")
        else:
            best = max(f1_at(scores, labels, s) for s in np.unique(scores))
            close(f1_at(scores, labels, np.float32(t)), best, "F1 at the max-F1 threshold", case)
    print(f"{n_sets} random sets agree with scikit-learn ({checked_auc} with both classes for ROC AUC)")


if __name__ == "__main__":
    main()
