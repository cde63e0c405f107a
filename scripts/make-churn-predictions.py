#!/usr/bin/env python3
"""Regenerates Fixtures/example/churn/: three scikit-learn churn models scored on the same rows.

    python3 -m venv .venv-churn && .venv-churn/bin/pip install numpy scikit-learn
    .venv-churn/bin/python scripts/make-churn-predictions.py

Everything is seeded, so the files come out the same on every run (committed; `swift test` and
scripts/make-example-registry.sh need no Python). What it makes, per version vN:
  vN/model/model.json      the fitted coefficients (the "artifact" registered)
  vN/predictions.csv       id,label,score,time,plan on the 3000 evaluation rows
  vN/importance.json       feature -> |coefficient|
  v3/predictions-other-rows.csv   v3 scored on 3000 other rows (a different evaluation set)
  expected-sklearn.json    f1 and roc_auc of every file as scikit-learn computes them

The data is synthetic: churn depends on three features. v1 is a logistic regression on two of
them; v2 adds the third but reads two features from a noisier source (its f1 gain over v1 is
within the noise); v3 adds the third feature cleanly (a real gain).
"""
import csv, json, os, sys
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
import sklearn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "example", "churn")
FEATURES = ["usage_drop", "support_calls", "tenure_gap", "noise_a", "noise_b", "noise_c"]
rng = np.random.default_rng(7)
N = 12000
X = rng.normal(size=(N, 6))
y = (rng.random(N) < 1 / (1 + np.exp(-(-0.8 + 1.6 * X[:, 0] + 1.0 * X[:, 1] + 0.6 * X[:, 2])))).astype(int)
# v2 reads support_calls and tenure_gap from a cheaper, noisier source.
Z = X.copy()
g = np.random.default_rng(5)
Z[:, 1] = X[:, 1] + 0.5 * g.normal(size=N)
Z[:, 2] = X[:, 2] + 1.0 * g.normal(size=N)
train, evalA, evalB = slice(0, 6000), slice(6000, 9000), slice(9000, 12000)
plan = np.where(rng.random(N) < 0.35, "premium", "basic")
# Evaluation rows were observed in October 2026, after the training window (July to September).
start = np.datetime64("2026-10-01T00:00:00")
seconds = rng.integers(0, 31 * 86400, size=N)

MODELS = {  # name: (data, feature columns)
    "v1": (X, [0, 1]),
    "v2": (Z, [0, 1, 2]),
    "v3": (X, [0, 1, 2]),
}

def write(path, rows, scores):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "label", "score", "time", "plan"])
        for i, s in zip(rows, scores):
            t = str(start + np.timedelta64(int(seconds[i]), "s")) + "Z"
            w.writerow([f"c{i:05d}", int(y[i]), f"{s:.6f}", t, plan[i]])
    # Metrics from the file as written (scores rounded to 6 decimals), as mreg reads it.
    with open(path) as f:
        data = list(csv.DictReader(f))
    labels = np.array([int(r["label"]) for r in data])
    read = np.array([float(r["score"]) for r in data])
    return {"f1": f1_score(labels, (read >= 0.5).astype(int)), "roc_auc": roc_auc_score(labels, read), "rows": len(data)}

expected = {"sklearn": sklearn.__version__, "threshold": 0.5, "files": {}}
for name, (data, features) in MODELS.items():
    model = LogisticRegression(max_iter=1000).fit(data[train][:, features], y[train])
    os.makedirs(os.path.join(OUT, name, "model"), exist_ok=True)
    with open(os.path.join(OUT, name, "model", "model.json"), "w") as f:
        json.dump({"kind": "logistic_regression", "features": [FEATURES[i] for i in features],
                   "coef": [round(v, 8) for v in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 8)}, f, indent=1)
        f.write("\n")
    # Importance: |coefficient| of each feature the model uses (features are standardised normals).
    with open(os.path.join(OUT, name, "importance.json"), "w") as f:
        json.dump({FEATURES[i]: round(abs(float(v)), 6) for i, v in zip(features, model.coef_[0])}, f, indent=1, sort_keys=True)
        f.write("\n")
    rows = range(evalA.start, evalA.stop)
    expected["files"][f"{name}/predictions.csv"] = write(os.path.join(OUT, name, "predictions.csv"), rows,
                                                        model.predict_proba(data[evalA][:, features])[:, 1])
    if name == "v3":
        rows = range(evalB.start, evalB.stop)
        expected["files"]["v3/predictions-other-rows.csv"] = write(os.path.join(OUT, name, "predictions-other-rows.csv"), rows,
                                                                  model.predict_proba(data[evalB][:, features])[:, 1])

with open(os.path.join(OUT, "expected-sklearn.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")

# A check of the design, with a plain paired bootstrap (stratified by label): v2's f1 gain over
# v1 must be within the noise and v3's real, or the fixture does not show what it is for.
def paired_low(a, b, level=0.95, resamples=1000):
    la = np.array([int(r["label"]) for r in a]); sa = np.array([float(r["score"]) for r in a]) >= 0.5
    sb = np.array([float(r["score"]) for r in b]) >= 0.5
    g = np.random.default_rng(1)
    pos, neg = np.flatnonzero(la == 1), np.flatnonzero(la == 0)
    diffs = []
    for _ in range(resamples):
        idx = np.concatenate([g.choice(pos, len(pos)), g.choice(neg, len(neg))])
        diffs.append(f1_score(la[idx], sa[idx]) - f1_score(la[idx], sb[idx]))
    return float(np.quantile(diffs, 1 - level)), float(np.mean(diffs))

def read(name):
    with open(os.path.join(OUT, name)) as f:
        return list(csv.DictReader(f))
for cand in ["v2", "v3"]:
    low, mean = paired_low(read(f"{cand}/predictions.csv"), read("v1/predictions.csv"))
    print(f"{cand} - v1: f1 gain {mean:+.4f}, one-sided 95% lower bound {low:+.4f}", file=sys.stderr)
