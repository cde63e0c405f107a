#!/usr/bin/env python3
"""Benchmark of the production commands (docs/benchmarks.md, "Production").

    python3 scripts/bench_production.py                    # 1,000,000 rows x 20 features; perf over 30 windows
    python3 scripts/bench_production.py --rows 100000      # smaller
    MREG=/path/to/mreg python3 scripts/bench_production.py
    MREG=.build/bench-core python3 scripts/bench_production.py   # the core alone (scripts/build-bench-core.sh); no perf
    BEFORE=/path/to/other/mreg …                          # also time that build's observe of the same file

Measures, on the same machine in the same run (standard library only):
- mreg observe of one batch of N rows with id, time, score, label and 20 feature columns: wall
  and CPU time, MB/s of CSV, peak RSS (GNU time). Includes reading and checking every row,
  storing the file as an object and the summary, and the commit.
- the reference: Python's csv module reading the same file and summing the scores (one pass).
- mreg perf --window 1d over 30 daily batches of --perf-rows rows each (30 windows): perf sums
  per-hour summaries, so its cost follows the number of batches and hours, not of rows.
"""
import argparse
import csv
import os
import platform
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/mreg-bench-production"


def run(args, env=None):
    """Runs a command; returns (wall s, cpu s, peak RSS MiB, stdout)."""
    rss_file = os.path.join(WORK, ".rss")
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + args, env=env, capture_output=True)
    wall = time.monotonic() - start
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), p.stderr.decode()))
    with open(rss_file) as f:
        rss, user, system = f.read().strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss) / 1024, p.stdout.decode()


def make_batch(path, n, day, features, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("id,time,score,label" + "".join(",f%d" % i for i in range(features)) + "\n")
        lines = []
        for i in range(n):
            sec = i * 86400 // n
            y = 1 if rng.random() < 0.2 else 0
            s = min(1.0, rng.random() * 0.7 + 0.3 * y)
            feats = "".join(",%.3f" % rng.random() for _ in range(features))
            lines.append("d%d-%d,2026-11-%02dT%02d:%02d:%02dZ,%.4f,%d%s\n" % (day, i, day, sec // 3600, sec % 3600 // 60, sec % 60, s, y, feats))
            if len(lines) == 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--perf-rows", type=int, default=100_000)
    ap.add_argument("--windows", type=int, default=30)
    ap.add_argument("--batch", help="observe this file (made by an earlier run, or by make_batch) instead of making one")
    ap.add_argument("--make-batch", help="only write the batch of --rows x --features to this file, then stop")
    a = ap.parse_args()
    if a.make_batch:
        make_batch(a.make_batch, a.rows, 1, a.features, 1)
        return
    mreg = os.environ.get("MREG") or os.path.join(ROOT, ".build", "release", "mreg")
    if not os.path.exists(mreg):
        sys.exit("build first: swift build -c release (or set MREG)")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    env = dict(os.environ, MREG_USER="bench", MREG_HOST="bench", MREG_TIME="2026-12-01T00:00:00Z")
    env.pop("MREG_REGISTRY", None)
    with open(os.path.join(WORK, "m.json"), "w") as f:
        f.write('{"recall": 0.7}')
    os.makedirs(os.path.join(WORK, "model"))
    with open(os.path.join(WORK, "model", "w.bin"), "w") as f:
        f.write("weights")

    def registry(binary, name):
        """A registry with fraud@1; returns the observe command for a file (CLI or bench-core)."""
        reg = os.path.join(WORK, name)
        core = os.path.basename(binary) == "bench-core"
        run([binary, "init", reg], env)
        model, metrics = os.path.join(WORK, "model"), os.path.join(WORK, "m.json")
        run([binary, "register", reg, "fraud", model, metrics] if core else
            [binary, "register", "fraud", model, "--metrics", metrics, "--registry", reg], env)
        return (lambda path: [binary, "observe", reg, "fraud@1", path]) if core else \
            (lambda path: [binary, "observe", "fraud@1", path, "--registry", reg])

    observe = registry(mreg, "reg")
    before = os.environ.get("BEFORE")
    observe_before = registry(before, "reg-before") if before else None

    print("machine: %s, %d cores, Python %s, %s" % (platform.processor() or platform.machine(), os.cpu_count(),
                                                    platform.python_version(), platform.platform()))
    if a.batch:
        big = a.batch
    else:
        big = os.path.join(WORK, "big.csv")
        make_batch(big, a.rows, 1, a.features, 1)
    mb = os.path.getsize(big) / 1e6
    print("load average before: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
    wall, cpu, rss, out = run(observe(big), env)
    print("observe %d rows x %d features (%.0f MB): %.2f s wall, %.2f s CPU, %.0f MB/s (wall), %.0f MB/s (CPU), peak RSS %.0f MiB"
          % (a.rows, a.features, mb, wall, cpu, mb / wall, mb / cpu, rss))
    if observe_before:
        bwall, bcpu, brss, bout = run(observe_before(big), env)
        print("BEFORE (%s) observe of the same file: %.2f s wall, %.2f s CPU, %.0f MB/s (wall), peak RSS %.0f MiB; now / before: %.2fx wall, %.2fx CPU"
              % (before, bwall, bcpu, mb / bwall, brss, wall / bwall, cpu / bcpu))
        if os.path.basename(mreg) == os.path.basename(before) == "bench-core":
            same_entry = out.split("summary")[0] == bout.split("summary")[0]
            summaries = [run([b, "features", os.path.join(WORK, r), "fraud"], env)[3] for b, r in ((mreg, "reg"), (before, "reg-before"))]
            print("same rows object and row count: %s; summary objects (counts and feature profile) byte-identical: %s"
                  % (same_entry, summaries[0] == summaries[1] and out.split("summary")[1] == bout.split("summary")[1]))
    start, cpu0 = time.monotonic(), time.process_time()
    total = 0.0
    with open(big, newline="") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            total += float(row[2])
    ref_wall, ref_cpu = time.monotonic() - start, time.process_time() - cpu0
    print("reference: Python csv module, one pass summing scores: %.2f s wall, %.2f s CPU (%.0f MB/s); mreg observe / reference wall: %.2fx"
          % (ref_wall, ref_cpu, mb / ref_wall, wall / ref_wall))
    if not a.batch:
        os.remove(big)
    if os.path.basename(mreg) == "bench-core":
        return

    reg = os.path.join(WORK, "reg")
    for d in range(1, a.windows + 1):
        p = os.path.join(WORK, "day%d.csv" % d)
        make_batch(p, a.perf_rows, d, 0, 100 + d)
        run([mreg, "observe", "fraud@1", p, "--registry", reg], env)
        os.remove(p)
    wall, cpu, rss, out = run([mreg, "perf", "fraud@1", "--window", "1d", "--json", "--registry", reg], env)
    windows = out.count('"too_few_labelled"')
    print("perf --window 1d over %d batches of %d rows (%d windows, %d rows in all): %.2f s wall, %.2f s CPU, peak RSS %.0f MiB"
          % (a.windows, a.perf_rows, windows, a.windows * a.perf_rows + a.rows, wall, cpu, rss))


if __name__ == "__main__":
    main()
