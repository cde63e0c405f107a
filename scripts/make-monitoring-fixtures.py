#!/usr/bin/env python3
"""Regenerates Fixtures/monitoring: a reference table, a drifted window table, and what numpy and
scipy compute on them (expected.json), which Tests/MregCoreTests/DriftMeasureTests.swift checks
mreg's profiles and measures against to 1e-9.

Run from the repository root: python3 scripts/make-monitoring-fixtures.py
It makes (or reuses) the virtual environment .venv-fixtures (ignored by git) with numpy,
scikit-learn and scipy, and re-runs itself inside it. The tables come from a fixed seed.

Definitions (docs/monitoring.md): both tables have fewer rows than Profiler.sampleLimit, so every
quantile is numpy's exact `quantile(…, method="linear")`; std is ddof=0; bins are
`searchsorted(edges[1:10], x, side="right")`; psi replaces zero shares by 1e-4; js is
scipy's `jensenshannon` (natural log); ks_binned is the largest CDF gap at the 9 interior edges,
ks_exact scipy's `ks_2samp(...).statistic`; wasserstein is the integral of the gap between the
piecewise-linear quantile functions through the 101 percentiles over the reference std,
wasserstein_exact scipy's `wasserstein_distance` on the raw values.
"""
import csv
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "monitoring")

import sklearn_venv  # noqa: E402

sklearn_venv.ensure(extra=["scipy"])

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402
from scipy.stats import ks_2samp, wasserstein_distance  # noqa: E402

rng = np.random.default_rng(20261202)
MERCHANTS = ["grocery", "fuel", "travel", "online", "pharmacy"]


def table(n, amount_scale, age_shift, merchant_p, missing_age, extra_merchants=()):
    amount = np.round(rng.lognormal(3.0, 0.8, n) * amount_scale, 2)
    age = np.round(rng.normal(40 + age_shift, 12, n)).astype(int)
    flag = (rng.random(n) < 0.1).astype(int)
    choices = MERCHANTS + list(extra_merchants)
    merchant = rng.choice(choices, size=n, p=merchant_p)
    rows = []
    for i in range(n):
        a = "" if rng.random() < missing_age else str(age[i])
        rows.append({"amount": f"{amount[i]:.2f}", "age": a, "flag": str(flag[i]), "merchant": merchant[i]})
    return rows


def write(name, rows):
    with open(os.path.join(OUT, name), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["amount", "age", "flag", "merchant"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def values(rows, col):
    return np.array([float(r[col]) for r in rows if r[col] != ""])


def bins(x, edges):
    idx = np.searchsorted(edges[1:10], x, side="right")
    return np.bincount(idx, minlength=10)


def quantile_gap(p, q):
    """Exact integral over u of |Qp(u) - Qq(u)|, both piecewise linear through 101 points."""
    total = 0.0
    for k in range(100):
        d0, d1 = p[k] - q[k], p[k + 1] - q[k + 1]
        if (d0 >= 0) == (d1 >= 0) or d0 == 0 or d1 == 0:
            total += (abs(d0) + abs(d1)) / 2 * 0.01
        else:
            total += (d0 * d0 + d1 * d1) / (2 * (abs(d0) + abs(d1))) * 0.01
    return total


def psi(p, q, eps=1e-4):
    p = np.where(p == 0, eps, p)
    q = np.where(q == 0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))


def numeric(ref_rows, win_rows, col):
    r, w = values(ref_rows, col), values(win_rows, col)
    edges = np.concatenate([[r.min()], np.quantile(r, np.arange(1, 10) / 10), [r.max()]])
    rc, wc = bins(r, edges), bins(w, edges)
    rp, wp = rc / rc.sum(), wc / wc.sum()
    ref_pct = np.quantile(r, np.arange(101) / 100)
    win_pct = np.quantile(w, np.arange(101) / 100)
    cdf_gap = np.abs(np.cumsum(rp)[:9] - np.cumsum(wp)[:9])
    return {
        "reference": {"count": int(r.size), "missing": len(ref_rows) - int(r.size), "min": r.min(), "max": r.max(),
                      "mean": r.mean(), "std": r.std(ddof=0), "edges": edges.tolist(), "counts": rc.tolist(),
                      "percentiles": ref_pct.tolist()},
        "window": {"count": int(w.size), "missing": len(win_rows) - int(w.size), "counts": wc.tolist(),
                   "below": int((w < r.min()).sum()), "above": int((w > r.max()).sum())},
        "psi": psi(rp, wp), "js": float(jensenshannon(rp, wp)),
        "ks_binned": float(cdf_gap.max()), "ks_exact": float(ks_2samp(r, w).statistic),
        "wasserstein": quantile_gap(ref_pct, win_pct) / r.std(ddof=0),
        "wasserstein_exact": float(wasserstein_distance(r, w)),
        "missing_rate": (len(win_rows) - int(w.size)) / len(win_rows),
        "out_of_range": float(((w < r.min()) | (w > r.max())).mean()),
        "mean": w.mean(), "p50": win_pct[50], "p90": win_pct[90], "p99": win_pct[99],
    }


def categorical(ref_rows, win_rows, col):
    ref = [r[col] for r in ref_rows if r[col] != ""]
    win = [r[col] for r in win_rows if r[col] != ""]
    ref_values = sorted(set(ref), key=lambda v: (-ref.count(v), v))
    p = np.array([ref.count(v) for v in ref_values] + [0]) / len(ref)
    listed = [win.count(v) for v in ref_values]
    q = np.array(listed + [len(win) - sum(listed)]) / len(win)
    new = sum(1 for v in win if v not in set(ref_values)) / len(win)
    return {"reference": {"top": [[v, ref.count(v)] for v in ref_values]},
            "js": float(jensenshannon(p, q)), "new_categories": new}


def main():
    os.makedirs(OUT, exist_ok=True)
    ref_rows = table(3000, 1.0, 0, [0.4, 0.2, 0.1, 0.2, 0.1], 0.01)
    win_rows = table(2000, 1.4, 5, [0.3, 0.2, 0.1, 0.2, 0.1, 0.1], 0.05, extra_merchants=["crypto"])
    write("reference.csv", ref_rows)
    write("window.csv", win_rows)
    # A window of the same distribution: small measures, for comparison in docs/monitoring.md.
    same_rows = table(2000, 1.0, 0, [0.4, 0.2, 0.1, 0.2, 0.1], 0.01)
    write("same.csv", same_rows)
    expected = {
        "generator": f"numpy {np.__version__}, scipy {scipy.__version__}",
        "window": {"amount": numeric(ref_rows, win_rows, "amount"), "age": numeric(ref_rows, win_rows, "age"),
                   "merchant": categorical(ref_rows, win_rows, "merchant")},
        "same": {"amount": numeric(ref_rows, same_rows, "amount"), "age": numeric(ref_rows, same_rows, "age"),
                 "merchant": categorical(ref_rows, same_rows, "merchant")},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True, default=float)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
