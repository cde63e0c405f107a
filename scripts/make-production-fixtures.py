#!/usr/bin/env python3
"""Regenerates Fixtures/production/expected.json: Wilson intervals, two-proportion z tests, the
difference of means and sample sizes at 80% power, computed with scipy, which
Tests/MregCoreTests/ProportionsTests.swift checks mreg's Production/Proportions.swift against.

Run from the repository root: python3 scripts/make-production-fixtures.py
It uses the virtual environment of scripts/sklearn_venv.py (.venv-fixtures, ignored by git).
The Wilson interval comes from scipy's own `binomtest(...).proportion_ci(method="wilson")`; the
tests and the sample size are the textbook formulas of docs/production.md written with
scipy.stats.norm, and the sample size is checked by computing the power it achieves.

`ab_estimates` (Production/ABEstimates.swift): f1 and balanced accuracy from scikit-learn on the
rows the confusion counts stand for, their delta-method variance next to a numpy multinomial
bootstrap of the standard error (seeded, 20,000 resamples of each arm's counts, which is resampling
its rows); roc_auc from scikit-learn on the binned scores and DeLong's variance computed the fast
way (midranks from scipy.stats.rankdata, Sun & Xu 2014), a different route from mreg's bin sums.
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


def expand(tp, fp, fn, tn):
    y = np.array([1] * tp + [0] * fp + [1] * fn + [0] * tn)
    d = np.array([1] * tp + [1] * fp + [0] * fn + [0] * tn)
    return y, d


def f1_delta(tp, fp, fn, tn):
    d = 2 * tp + fp + fn
    return 4 * tp * (fp + fn) * (tp + fp + fn) / d ** 4


def ba_delta(tp, fp, fn, tn):
    p, n = tp + fn, tn + fp
    r, s = tp / p, tn / n
    return (r * (1 - r) / p + s * (1 - s) / n) / 4


def bootstrap_se(counts, metric, rng, reps=20000):
    n = sum(counts)
    draws = rng.multinomial(n, np.array(counts) / n, size=reps)
    values = np.array([metric(*row) for row in draws])
    return float(values[np.isfinite(values)].std(ddof=1))


def f1_of(tp, fp, fn, tn):
    d = 2 * tp + fp + fn
    return 2 * tp / d if d > 0 else np.nan


def ba_of(tp, fp, fn, tn):
    p, n = tp + fn, tn + fp
    return (tp / p + tn / n) / 2 if p > 0 and n > 0 else np.nan


def delong(pos, neg):
    """AUC and DeLong's variance by midranks (Sun & Xu 2014)."""
    from sklearn.metrics import roc_auc_score
    m, k = len(pos), len(neg)
    tx, ty = stats.rankdata(pos), stats.rankdata(neg)
    tz = stats.rankdata(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * k)
    v10 = (tz[:m] - tx) / k
    v01 = 1 - (tz[m:] - ty) / m
    var = v10.var(ddof=1) / m + v01.var(ddof=1) / k
    y = np.concatenate([np.ones(m), np.zeros(k)])
    sk = roc_auc_score(y, np.concatenate([pos, neg]))
    assert abs(sk - auc) < 1e-12, (sk, auc)
    return float(sk), float(var)


def wald(a, b, level):
    (va, sa), (vb, sb) = a, b
    d = vb - va
    se = np.sqrt(sa + sb)
    zc = norm.ppf(1 - (1 - level) / 2)
    z = d / se
    return {"difference": d, "interval": [d - zc * se, d + zc * se], "z": z, "p_value": float(2 * norm.sf(abs(z)))}


def rows_needed(a, b, alpha, power):
    (va, sa, na), (vb, sb, nb) = a, b
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return int(np.ceil(z * z * (na * sa + nb * sb) / (vb - va) ** 2))


def ab_estimates():
    from sklearn.metrics import f1_score, balanced_accuracy_score
    rng = np.random.default_rng(1615)
    out = {"confusion": [], "compare": [], "roc_auc": []}
    arms = [(300, 40, 60, 600), (330, 45, 30, 595), (12, 3, 8, 77), (9, 6, 4, 81), (1500, 210, 400, 7890), (1620, 180, 280, 7920)]
    for tp, fp, fn, tn in arms:
        y, d = expand(tp, fp, fn, tn)
        out["confusion"].append({
            "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "f1": float(f1_score(y, d)), "f1_variance": f1_delta(tp, fp, fn, tn),
            "f1_bootstrap_se": bootstrap_se((tp, fp, fn, tn), f1_of, rng),
            "balanced_accuracy": float(balanced_accuracy_score(y, d)), "balanced_accuracy_variance": ba_delta(tp, fp, fn, tn),
            "balanced_accuracy_bootstrap_se": bootstrap_se((tp, fp, fn, tn), ba_of, rng),
        })
    for i in range(0, len(arms), 2):
        a, b = arms[i], arms[i + 1]
        na, nb = sum(a), sum(b)
        for name, value, var in [("f1", f1_of, f1_delta), ("balanced_accuracy", ba_of, ba_delta)]:
            r = wald((value(*a), var(*a)), (value(*b), var(*b)), 0.95)
            r.update({"metric": name, "a": list(a), "b": list(b),
                      "rows_needed": rows_needed((value(*a), var(*a), na), (value(*b), var(*b), nb), 0.05, 0.8)})
            out["compare"].append(r)
    # roc_auc on scores binned as the summaries bin them (100 bins of [0, 1]).
    bins = 100
    for m, k, shift in [(40, 160, 0.8), (400, 1600, 1.0), (420, 1580, 1.3), (3, 5, 0.5)]:
        pos = 1 / (1 + np.exp(-rng.normal(shift, 1.0, m)))
        neg = 1 / (1 + np.exp(-rng.normal(-shift, 1.0, k)))
        pb = np.minimum(bins - 1, np.floor(pos * bins)).astype(int)
        nb_ = np.minimum(bins - 1, np.floor(neg * bins)).astype(int)
        auc, var = delong((pb + 0.5) / bins, (nb_ + 0.5) / bins)
        out["roc_auc"].append({
            "positive": {str(i): int(c) for i, c in enumerate(np.bincount(pb, minlength=bins)) if c},
            "negative": {str(i): int(c) for i, c in enumerate(np.bincount(nb_, minlength=bins)) if c},
            "auc": auc, "variance": var,
        })
    a, b = out["roc_auc"][1], out["roc_auc"][2]
    r = wald((a["auc"], a["variance"]), (b["auc"], b["variance"]), 0.95)
    r["rows_needed"] = rows_needed((a["auc"], a["variance"], 2000), (b["auc"], b["variance"], 2000), 0.05, 0.8)
    out["roc_auc_compare"] = r
    return out


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
    out["ab_estimates"] = ab_estimates()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
