#!/usr/bin/env python3
"""Regenerates Fixtures/evaluation: prediction tables and the metric values scikit-learn computes
on them (expected.json), which Tests/MregCoreTests/MetricsTests.swift checks mreg against to 1e-9.

Run from the repository root: python3 scripts/make-eval-fixtures.py
It makes a virtual environment .venv-fixtures (ignored by git) with scikit-learn and numpy, and
re-runs itself inside it. The tables are made from a fixed seed, so a rerun with the same
scikit-learn gives the same files.
"""
import json
import os
import subprocess
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "evaluation")


import sklearn_venv  # noqa: E402

sklearn_venv.ensure()

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import metrics as M  # noqa: E402
from sklearn.exceptions import UndefinedMetricWarning  # noqa: E402

warnings.simplefilter("ignore", UndefinedMetricWarning)
warnings.simplefilter("ignore", RuntimeWarning)
warnings.simplefilter("ignore", UserWarning)


def fmt(x):
    return repr(float(x))


def write_csv(name, columns, integer_labels):
    path = os.path.join(OUT, "cases", name + ".csv")
    keys = list(columns)
    n = len(columns[keys[0]])
    with open(path, "w", newline="") as f:
        f.write(",".join(keys) + "\n")
        for i in range(n):
            row = []
            for k in keys:
                v = columns[k][i]
                row.append(v if isinstance(v, str) else (str(int(v)) if k == "label" and integer_labels else fmt(v)))
            f.write(",".join(row) + "\n")
    return "cases/" + name + ".csv"


def defined(value):
    return value is not None and np.isfinite(value)


def binary_expected(y, s, w, threshold=0.5, abstain=None, beta=None):
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    w = None if w is None else np.asarray(w, dtype=float)
    out, undefined = {}, []
    out["n"] = float(len(y))
    out["positives"] = float(y.sum())
    decided = np.ones(len(y), dtype=bool)
    if abstain is not None:
        lo, hi = abstain
        decided = ~((s > lo) & (s < hi))
        out["coverage"] = float(np.average(decided, weights=w))
    yd, sd = y[decided], s[decided]
    wd = None if w is None else w[decided]
    yhat = (sd >= threshold).astype(int)
    if len(yd) > 0:
        out["accuracy"] = M.accuracy_score(yd, yhat, sample_weight=wd)
        out["balanced_accuracy"] = M.balanced_accuracy_score(yd, yhat, sample_weight=wd)
        out["precision"] = M.precision_score(yd, yhat, sample_weight=wd, zero_division=0)
        out["recall"] = M.recall_score(yd, yhat, sample_weight=wd, zero_division=0)
        out["specificity"] = M.recall_score(yd, yhat, pos_label=0, sample_weight=wd, zero_division=0)
        out["f1"] = M.f1_score(yd, yhat, sample_weight=wd, zero_division=0)
        if beta is not None and beta != 1:
            out["f" + (str(int(beta)) if float(beta).is_integer() else repr(beta))] = M.fbeta_score(
                yd, yhat, beta=beta, sample_weight=wd, zero_division=0)
        out["positive_rate"] = float(np.average(yhat, weights=wd))
    else:
        undefined += ["accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1", "positive_rate"]
    auc = None
    try:
        auc = M.roc_auc_score(y, s, sample_weight=w)
    except ValueError:
        pass
    if defined(auc):
        out["roc_auc"] = auc
    else:
        undefined.append("roc_auc")
    out["average_precision"] = M.average_precision_score(y, s, sample_weight=w)
    try:
        out["log_loss"] = M.log_loss(y, s, sample_weight=w)
    except ValueError:
        undefined.append("log_loss")
    out["brier"] = M.brier_score_loss(y, s, sample_weight=w)
    return {k: float(v) for k, v in out.items()}, sorted(undefined)


def regression_expected(y, p, w, lower=None, upper=None):
    y, p = np.asarray(y, float), np.asarray(p, float)
    w = None if w is None else np.asarray(w, float)
    out, undefined = {"n": float(len(y))}, []
    out["mae"] = M.mean_absolute_error(y, p, sample_weight=w)
    out["rmse"] = M.root_mean_squared_error(y, p, sample_weight=w)
    r2 = M.r2_score(y, p, sample_weight=w)
    if defined(r2):
        out["r2"] = r2
    else:
        undefined.append("r2")
    out["median_ae"] = M.median_absolute_error(y, p, sample_weight=w)
    out["bias"] = float(np.average(p - y, weights=w))
    if lower is not None:
        lower, upper = np.asarray(lower, float), np.asarray(upper, float)
        out["coverage"] = float(np.average((lower <= y) & (y <= upper), weights=w))
        out["mean_width"] = float(np.average(upper - lower, weights=w))
    return {k: float(v) for k, v in out.items()}, sorted(undefined)


def main():
    os.makedirs(os.path.join(OUT, "cases"), exist_ok=True)
    rng = np.random.default_rng(20261201)
    cases = {}

    def binary(name, y, s, w=None, **options):
        cols = {"id": ["r%d" % i for i in range(len(y))], "label": list(y), "score": list(s)}
        if w is not None:
            cols["weight"] = list(w)
        expected, undefined = binary_expected(y, s, w, **options)
        case = {"file": write_csv(name, cols, True), "task": "binary", "metrics": expected, "undefined": undefined}
        case.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()})
        cases[name] = case

    def regression(name, y, p, w=None, lower=None, upper=None):
        cols = {"id": ["r%d" % i for i in range(len(y))], "label": list(y), "prediction": list(p)}
        if lower is not None:
            cols["lower"], cols["upper"] = list(lower), list(upper)
        if w is not None:
            cols["weight"] = list(w)
        expected, undefined = regression_expected(y, p, w, lower, upper)
        cases[name] = {"file": write_csv(name, cols, False), "task": "regression", "metrics": expected, "undefined": undefined}

    # Binary: small and medium, and every edge case of the issue.
    y = rng.integers(0, 2, 20)
    binary("binary_small", y, np.clip(y * 0.3 + rng.random(20) * 0.7, 0, 1))
    binary("no_predicted_positives", [0, 1, 1], [0.1, 0.2, 0.3])
    binary("one_class_negative", [0, 0, 0, 0], [0.1, 0.6, 0.3, 0.8])
    binary("one_class_positive", [1, 1, 1], [0.9, 0.4, 0.7])
    binary("tied_scores_auc", [0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8])
    binary("tied_scores_ap", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    binary("all_scores_tied", [0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    binary("probabilities_0_and_1", [1, 0, 1, 0, 1, 0], [1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    binary("score_at_threshold", [0, 1, 1, 0], [0.5, 0.5, 0.7, 0.2])
    binary("threshold_beta", y, np.clip(y * 0.3 + rng.random(20) * 0.7, 0, 1), threshold=0.3, beta=2)
    binary("beta_half", y, np.clip(y * 0.2 + rng.random(20) * 0.8, 0, 1), beta=0.5)
    binary("weights", y, np.clip(y * 0.3 + rng.random(20) * 0.7, 0, 1), w=np.round(rng.random(20) * 3, 3))
    binary("weights_with_zeros", [0, 1, 0, 1, 1, 0], [0.2, 0.8, 0.6, 0.4, 0.9, 0.1], w=[1.0, 0.0, 2.0, 1.5, 0.0, 3.0])
    binary("abstain", y, np.round(rng.random(20), 2), abstain=(0.35, 0.65))
    binary("abstain_everything", [0, 1, 1], [0.4, 0.5, 0.6], abstain=(0.3, 0.7))
    ym = rng.integers(0, 2, 5000)
    sm = np.clip(ym * 0.25 + rng.random(5000) * 0.75, 0, 1)
    binary("binary_medium", ym, sm)
    binary("binary_medium_ties_weights", ym, np.round(sm, 2), w=np.round(rng.random(5000) * 2, 3), beta=2, abstain=(0.45, 0.55))

    # Regression.
    yr = rng.normal(10, 3, 30)
    regression("regression_small", yr, yr + rng.normal(0.5, 1, 30))
    regression("constant_target_perfect", [3.0, 3.0, 3.0], [3.0, 3.0, 3.0])
    regression("constant_target_imperfect", [3.0, 3.0, 3.0], [2.0, 3.0, 4.5])
    regression("one_sample", [2.0], [2.5])
    regression("even_count_median", [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 6.0])
    regression("regression_whole_weights", yr, yr + rng.normal(0, 1, 30), w=rng.integers(1, 4, 30).astype(float))
    regression("regression_weights", yr, yr + rng.normal(0, 1, 30), w=np.round(rng.random(30) * 2 + 0.1, 3))
    lo = yr - rng.random(30) * 3
    regression("regression_interval", yr, yr + rng.normal(0, 1, 30), lower=lo, upper=lo + rng.random(30) * 5)
    yrm = rng.normal(100, 20, 5000)
    regression("regression_medium", yrm, yrm + rng.normal(1, 5, 5000))

    doc = {"generator": "scripts/make-eval-fixtures.py", "scikit_learn": sklearn.__version__, "numpy": np.__version__,
           "cases": cases}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d cases to %s (scikit-learn %s)" % (len(cases), OUT, sklearn.__version__))


main()
