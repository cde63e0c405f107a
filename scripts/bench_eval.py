#!/usr/bin/env python3
"""Benchmark of the evaluation core (docs/benchmarks.md, "Metrics from predictions").

    python3 scripts/bench_eval.py                 # 1,000,000 rows, 1,000 resamples
    python3 scripts/bench_eval.py --rows 100000   # smaller
    MREG=/path/to/mreg python3 scripts/bench_eval.py
    CSV_SWIFT=/path/to/CSV.swift python3 scripts/bench_eval.py --csv-swift   # also the parser comparison

Measures, on the same machine in the same run:
- mreg register --predictions on N binary rows: point metrics only (--bootstrap 0), and all binary
  metrics with 95% intervals from R resamples; wall time and peak RSS (wait4) of the process.
  These include reading and checking the CSV, storing it as an object and writing the record.
- scikit-learn computing the same point metrics once on arrays already in memory (reading the CSV
  is not counted for scikit-learn).
- the bootstrap as a Python loop: the same stratified resamples drawn with numpy, each passed to
  the same scikit-learn metric functions; run for --python-resamples and scaled to R.
- reading speed: mreg register --bootstrap 0 on a ~100 MB CSV (MB/s of the whole command), and the
  reading alone on the same file (mreg-populate --read-predictions, built beside $MREG, or
  $MREG_POPULATE). --no-bootstrap skips the bootstrap figures (the long part).
- with --csv-swift: mreg's CSV tokenizer against yaslab/CSV.swift's CSVReader on that file
  (scripts/bench-csv, built in /tmp with the package at $CSV_SWIFT).
Uses the venv of scripts/make-eval-fixtures.py (.venv-fixtures) for numpy and scikit-learn.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/mreg-bench-eval"


import sklearn_venv  # noqa: E402

sklearn_venv.ensure()
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import metrics as M  # noqa: E402


def run(args, cwd=None, env=None):
    """Runs a command; returns (seconds, peak RSS MiB, stdout). The peak RSS comes from GNU time
    (its child is a fork of a small process; a fork of this Python, numpy loaded, would count
    Python's pages in the child's maximum)."""
    rss_file = os.path.join(WORK, ".rss")
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + args, cwd=cwd, env=env, capture_output=True)
    elapsed = time.monotonic() - start
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), p.stderr.decode()))
    with open(rss_file) as f:
        rss, user, system = f.read().strip().splitlines()[-1].split()
    return Timing(elapsed, float(user) + float(system)), int(rss) / 1024, p.stdout.decode()


class Timing:
    """Wall and CPU seconds. The machine is shared: ratios are taken on CPU time."""

    def __init__(self, wall, cpu):
        self.wall, self.cpu = wall, cpu

    def __str__(self):
        return "%.2f (%.2f)" % (self.cpu, self.wall)


def measure(body):
    wall, cpu = time.monotonic(), time.process_time()
    body()
    return Timing(time.monotonic() - wall, time.process_time() - cpu)


def make_table(path, n, seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(0.15 + 0.3 * y + rng.random(n) * 0.55, 0, 1)
    with open(path, "w") as f:
        f.write("id,label,score\n")
        step = 100000
        for start in range(0, n, step):
            lines = ["r%d,%d,%r" % (i, y[i], float(s[i])) for i in range(start, min(n, start + step))]
            f.write("\n".join(lines) + "\n")
    return y, s


def sklearn_point(y, s, t=0.5):
    yhat = (s >= t).astype(int)
    return {
        "accuracy": M.accuracy_score(y, yhat),
        "balanced_accuracy": M.balanced_accuracy_score(y, yhat),
        "precision": M.precision_score(y, yhat, zero_division=0),
        "recall": M.recall_score(y, yhat, zero_division=0),
        "specificity": M.recall_score(y, yhat, pos_label=0, zero_division=0),
        "f1": M.f1_score(y, yhat, zero_division=0),
        "roc_auc": M.roc_auc_score(y, s),
        "average_precision": M.average_precision_score(y, s),
        "log_loss": M.log_loss(y, s),
        "brier": M.brier_score_loss(y, s),
        "positive_rate": float(yhat.mean()),
    }


def python_bootstrap(y, s, resamples, seed):
    rng = np.random.default_rng(seed)
    strata = [np.flatnonzero(y == 0), np.flatnonzero(y == 1)]
    for _ in range(resamples):
        idx = np.concatenate([st[rng.integers(0, len(st), len(st))] for st in strata])
        sklearn_point(y[idx], s[idx])


def mreg_binary():
    if os.environ.get("MREG"):
        return os.environ["MREG"]
    for product in ["mreg", "mreg-populate"]:
        subprocess.check_call(["swift", "build", "-c", "release", "-j", "1", "--product", product], cwd=ROOT)
    return os.path.join(ROOT, ".build", "release", "mreg")


def csv_swift(path):
    src = os.environ.get("CSV_SWIFT")
    if not src:
        sys.exit("--csv-swift needs CSV_SWIFT=/path/to/a/checkout/of/yaslab/CSV.swift")
    pkg = os.path.join(WORK, "bench-csv")
    os.makedirs(os.path.join(pkg, "Sources", "bench"), exist_ok=True)
    with open(os.path.join(pkg, "Package.swift"), "w") as f:
        f.write('// swift-tools-version:5.9\nimport PackageDescription\nlet package = Package(name: "bench", '
                'dependencies: [.package(path: "%s")], targets: [.executableTarget(name: "bench", '
                'dependencies: [.product(name: "CSV", package: "%s")], swiftSettings: [.unsafeFlags(["-Ounchecked"])] )])\n'
                % (src, os.path.basename(src.rstrip("/"))))
    for name in ["Tables/CSVTokenizer.swift", "Tables/NumberText.swift", "Tables/DecimalPowers.swift"]:
        shutil.copy(os.path.join(ROOT, "Sources", "MregCore", name), os.path.join(pkg, "Sources", "bench"))
    shutil.copy(os.path.join(ROOT, "scripts", "bench-csv", "main.swift"), os.path.join(pkg, "Sources", "bench"))
    subprocess.check_call(["swift", "build", "-c", "release", "-j", "1"], cwd=pkg)
    _, _, out = run([os.path.join(pkg, ".build", "release", "bench"), path])
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--python-resamples", type=int, default=10)
    ap.add_argument("--csv-mb", type=int, default=100)
    ap.add_argument("--no-bootstrap", action="store_true",
                    help="skip register --bootstrap R and the Python loop (point metrics and reading only)")
    ap.add_argument("--csv-swift", action="store_true")
    ap.add_argument("--csv-swift-mb", type=int, default=20, help="size of the file both parsers read (CSV.swift is slow)")
    a = ap.parse_args()

    mreg = mreg_binary()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    if not os.path.exists("/usr/bin/time"):
        sys.exit("needs GNU time (/usr/bin/time; apt-get install time) for peak memory")
    preds = os.path.join(WORK, "preds.csv")
    y, s = make_table(preds, a.rows, 1)
    big = os.path.join(WORK, "big.csv")
    big_rows = int(a.csv_mb * 1e6 / (os.path.getsize(preds) / a.rows))
    make_table(big, big_rows, 2)
    os.makedirs(os.path.join(WORK, "art"))
    with open(os.path.join(WORK, "art", "model.bin"), "wb") as f:
        f.write(os.urandom(1024))
    reg = os.path.join(WORK, "reg")
    run([mreg, "init", reg])

    def register(path, resamples):
        return run([mreg, "register", "m", os.path.join(WORK, "art"), "--registry", reg, "--predictions", path,
                    "--bootstrap", str(resamples)])

    point_s, point_rss, _ = register(preds, 0)
    if not a.no_bootstrap:
        boot_s, boot_rss, _ = register(preds, a.resamples)
    big_s, big_rss, _ = register(big, 0)

    sk = sklearn_point(y, s)
    sk_s = measure(lambda: sklearn_point(y, s))
    if not a.no_bootstrap:
        py = measure(lambda: python_bootstrap(y, s, a.python_resamples, 7))
        scale = a.resamples / a.python_resamples
        py_s = Timing(py.wall * scale, py.cpu * scale)

    # The same values? (mreg's metrics of the last registered version of preds.csv)
    show = json.loads(run([mreg, "show", "m@1" if a.no_bootstrap else "m@2", "--registry", reg, "--json"])[2])
    worst = max(abs(show["metrics"]["metrics"][k] - v) for k, v in sk.items())

    size = os.path.getsize(preds)
    big_size = os.path.getsize(big)
    print("machine: %s, %d cores, Python %s, numpy %s, scikit-learn %s" % (
        platform.processor() or platform.machine(), os.cpu_count(), platform.python_version(), np.__version__, sklearn.__version__))
    print("rows: %d (%.1f MB CSV), resamples: %d (Python loop: %d, scaled)" % (a.rows, size / 1e6, a.resamples, a.python_resamples))
    print("largest |mreg - scikit-learn| over the point metrics: %.2e" % worst)
    print()
    print("| what | CPU s (wall s) | peak RSS (MiB) | reference CPU / mreg CPU |")
    print("|---|---|---|---|")
    print("| scikit-learn, point metrics once (arrays in memory) | %s | | |" % sk_s)
    print("| **mreg register --bootstrap 0** (read, check, all point metrics, store) | %s | %.0f | %.2f (scikit-learn once) |" % (point_s, point_rss, sk_s.cpu / point_s.cpu))
    if not a.no_bootstrap:
        print("| Python loop, %d stratified resamples × scikit-learn metrics (scaled from %d) | %s | | |" % (a.resamples, a.python_resamples, py_s))
        print("| **mreg register --bootstrap %d** (all metrics with intervals) | %s | %.0f | %.0f (Python loop) |" % (a.resamples, boot_s, boot_rss, py_s.cpu / boot_s.cpu))
    print("| **mreg register --bootstrap 0** on %.0f MB (%d rows) | %s | %.0f | %.0f MB/s of CPU |" % (big_size / 1e6, big_rows, big_s, big_rss, big_size / big_s.cpu / 1e6))
    big_show = json.loads(run([mreg, "show", "m@3" if not a.no_bootstrap else "m@2", "--registry", reg, "--json"])[2])
    populate = os.environ.get("MREG_POPULATE") or os.path.join(os.path.dirname(mreg), "mreg-populate")
    if os.path.exists(populate):
        # Reading alone: tokenize, parse and check every value, sort the ids, hash the evaluation
        # set; nothing stored (mreg-populate --read-predictions, the code path of register).
        read_s, read_rss, out = run([populate, "--read-predictions", big])
        r = json.loads(out)
        # A file of 8 MiB or more is read on two cores (docs/evaluation.md): wall time is the figure.
        print("| **mreg reading the predictions alone** (tokenize, parse, check, sort ids, hash the evaluation set) on %.0f MB | %s | %.0f | **%.0f MB/s** (%.2f s of wall time inside the process), %.0f MB/s of CPU |" % (
            big_size / 1e6, read_s, read_rss, big_size / r["wall_seconds"] / 1e6, r["wall_seconds"], big_size / r["cpu_seconds"] / 1e6))
    else:
        print("(no %s: build it with `swift build -c release --product mreg-populate` for the reading figure)" % populate)
    print()
    print("evaluation sets: %s (%d rows), %s (%d rows, %.0f MB)" % (
        show["evaluation"]["eval_set"], a.rows, big_show["evaluation"]["eval_set"], big_rows, big_size / 1e6))
    if a.csv_swift:
        small = os.path.join(WORK, "parsers.csv")
        make_table(small, int(a.csv_swift_mb * 1e6 / (size / a.rows)), 3)
        c = csv_swift(small)
        print("| (both parsers below read the same %.0f MB file) | | | |" % (os.path.getsize(small) / 1e6))
        print("| CSV parsing only, mreg's tokenizer + number parsing | %.2f | | %.0f MB/s of CPU |" % (c["mreg_s"], c["mreg_mb_s"]))
        print("| CSV parsing only, yaslab/CSV.swift CSVReader + Double() | %.2f | | %.0f MB/s of CPU; mreg %.1f × faster |" % (
            c["csvswift_s"], c["csvswift_mb_s"], c["csvswift_s"] / c["mreg_s"]))


main()
