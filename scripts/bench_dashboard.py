#!/usr/bin/env python3
"""Benchmark of `mreg dashboard` (issue 17's target: 1,000 versions, 365 windows, 50 features
render in under 1 s to a page under 2 MB).

Builds the release binaries (mreg, mreg-populate, mreg-dashboard-bench) unless $MREG names an mreg
with the two others beside it; makes a registry of 1,000 versions with mreg-populate (the same code
path as `mreg register`), promotes a few, then measures, median of 5 runs each:
  - `mreg dashboard fraud --out PAGE` (the command as users run it: registry sections only, since
    production and monitoring are not wired in yet),
  - mreg-dashboard-bench: the same page plus production (365 windows), drift (50 features × 365
    windows), integrity and alerts panels of that size,
  - and, as the reference in the same run, `mreg list fraud` and `mreg log fraud`, which read the
    same 1,000 records and history entries.

  python3 scripts/bench_dashboard.py [VERSIONS]
"""
import os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/mreg-bench-dashboard"
VERSIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000

def binaries():
    if os.environ.get("MREG"):
        d = os.path.dirname(os.environ["MREG"])
        return os.environ["MREG"], os.path.join(d, "mreg-populate"), os.path.join(d, "mreg-dashboard-bench")
    print("building release binaries...", file=sys.stderr)
    for p in ["mreg", "mreg-populate", "mreg-dashboard-bench"]:
        subprocess.run(["swift", "build", "-c", "release", "-j", "1", "--product", p], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    d = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(d, "mreg"), os.path.join(d, "mreg-populate"), os.path.join(d, "mreg-dashboard-bench")

def run(argv):
    t = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, MREG_USER="bench", MREG_HOST="bench"))
    dt = time.monotonic() - t
    if p.returncode not in (0, 3):
        sys.exit(f"{' '.join(argv)}: exit {p.returncode}\n{p.stderr}")
    return dt, p.stdout

def median(argv, reps=5):
    times, out = [], ""
    for _ in range(reps):
        dt, out = run(argv)
        times.append(dt)
    return statistics.median(times), out

def main():
    mreg, populate, bench = binaries()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    reg = os.path.join(WORK, "reg")
    run([mreg, "init", reg])
    print(f"generating {VERSIONS:,} versions...", file=sys.stderr)
    gen, _ = run([populate, reg, "fraud", str(VERSIONS)])
    for v, stage in [(1, "staging"), (1, "production"), (VERSIONS // 2, "staging"), (VERSIONS // 2, "production"), (VERSIONS - 1, "staging")]:
        run([mreg, "promote", "--registry", reg, f"fraud@{v}", "--stage", stage])
    page = os.path.join(WORK, "fraud.html")
    full = os.path.join(WORK, "fraud-full.html")
    cli, _ = median([mreg, "dashboard", "--registry", reg, "fraud", "--out", page])
    synth, line = median([bench, reg, "fraud", full, "365", "50"])
    lst, _ = median([mreg, "list", "--registry", reg, "fraud"])
    log, _ = median([mreg, "log", "--registry", reg, "fraud"])
    cpu = subprocess.run("lscpu | grep 'Model name' | sed 's/.*: *//'", shell=True, capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, {cpu}; {VERSIONS:,} versions generated in {gen:.0f} s\n")
    print("| what | time (s) | page (bytes) |")
    print("|---|---|---|")
    print(f"| `mreg dashboard fraud` (registry sections) | {cli:.3f} | {os.path.getsize(page):,} |")
    print(f"| + production 365 windows, drift 50 × 365, integrity, alerts (mreg-dashboard-bench) | {synth:.3f} | {os.path.getsize(full):,} |")
    print(f"| reference: `mreg list fraud` | {lst:.3f} | |")
    print(f"| reference: `mreg log fraud` | {log:.3f} | |")
    print(f"\nmreg-dashboard-bench, last run: {line.strip()}")

if __name__ == "__main__":
    main()
