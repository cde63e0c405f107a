#!/usr/bin/env python3
"""Regenerates Fixtures/production/expected.json: Wilson intervals, two-proportion z tests, the
difference of means and sample sizes at 80% power, computed with scipy, which
Tests/MregCoreTests/ProportionsTests.swift checks mreg's Production/Proportions.swift against.

Run from the repository root: python3 scripts/make-production-fixtures.py
It uses the virtual environment of scripts/sklearn_venv.py (.venv-fixtures, ignored by git).
The Wilson interval comes from scipy's own `binomtest(...).proportion_ci(method="wilson")`; the
tests and the sample size are the textbook formulas of docs/production.md written with
scipy.stats.norm, and the sample size is checked by computing the power it achieves.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklearn_venv  # noqa: E402

sklearn_venv.ensure()

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import stats  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "production", "expected.json")
norm = stats.norm


def wilson(k, n, level):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return [float(ci.low), float(ci.high)]


def two_proportion(xa, na, xb, nb, level):
    pa, pb = xa / na, xb / nb
    d = pb - pa
    pooled = (xa + xb) / (na + nb)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    zc = norm.ppf(1 - (1 - level) / 2)
    z = d / se0 if se0 > 0 else 0.0
    p = 2 * norm.sf(abs(z)) if se0 > 0 else 1.0
    return {"difference": d, "interval": [d - zc * se, d + zc * se], "z": z, "p_value": float(p)}


def rows_per_group(pa, pb, alpha, power):
    bar = (pa + pb) / 2
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    n = (za * np.sqrt(2 * bar * (1 - bar)) + zb * np.sqrt(pa * (1 - pa) + pb * (1 - pb))) ** 2 / (pb - pa) ** 2
    n = int(np.ceil(n))
    # The power n rows per group achieve (normal approximation, pooled null variance): at least `power`.
    se0 = np.sqrt(2 * bar * (1 - bar) / n)
    se1 = np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n)
    achieved = norm.cdf((abs(pb - pa) - za * se0) / se1)
    assert achieved >= power - 1e-9, (pa, pb, n, achieved)
    return n


def two_means(a, b, level):
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b.mean() - a.mean()
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    zc = norm.ppf(1 - (1 - level) / 2)
    z = d / se
    return {"difference": d, "interval": [d - zc * se, d + zc * se], "z": z, "p_value": float(2 * norm.sf(abs(z)))}


def main():
    out = {"scipy": scipy.__version__, "quantiles": [], "wilson": [], "two_proportion": [], "rows_per_group": [], "two_means": []}
    for p in [1e-10, 0.001, 0.01, 0.02425, 0.05, 0.2, 0.5, 0.8, 0.9, 0.975, 0.995, 0.999999]:
        out["quantiles"].append({"p": p, "z": float(norm.ppf(p))})
    for k, n, level in [(0, 10, 0.95), (10, 10, 0.95), (1, 3, 0.95), (7, 30, 0.95), (412, 500, 0.95), (45, 1000, 0.9),
                        (5000, 10000, 0.99), (3, 1_000_000, 0.95)]:
        out["wilson"].append({"k": k, "n": n, "level": level, "interval": wilson(k, n, level)})
    for xa, na, xb, nb in [(480, 1000, 540, 1000), (30, 100, 33, 100), (700, 1000, 700, 1000), (0, 50, 0, 60),
                           (120, 400, 160, 420), (5120, 10000, 5000, 10000)]:
        r = two_proportion(xa, na, xb, nb, 0.95)
        r.update({"xa": xa, "na": na, "xb": xb, "nb": nb, "level": 0.95})
        out["two_proportion"].append(r)
    for pa, pb in [(0.3, 0.33), (0.5, 0.6), (0.72, 0.8), (0.1, 0.09), (0.05, 0.06)]:
        out["rows_per_group"].append({"pa": pa, "pb": pb, "alpha": 0.05, "power": 0.8, "n": rows_per_group(pa, pb, 0.05, 0.8)})
    rng = np.random.default_rng(15)
    a = np.round(rng.gamma(2.0, 10.0, size=200), 2)
    b = np.round(rng.gamma(2.0, 11.0, size=240), 2)
    r = two_means(a, b, 0.95)
    r.update({"na": len(a), "sum_a": float(a.sum()), "sum_sq_a": float((a * a).sum()),
              "nb": len(b), "sum_b": float(b.sum()), "sum_sq_b": float((b * b).sum())})
    out["two_means"].append(r)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
