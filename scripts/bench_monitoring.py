#!/usr/bin/env python3
"""Profiling and monitoring beside Evidently's DataDriftPreset, on the same data, in the same run
(docs/benchmarks.md, "Monitoring against Evidently"; docs/monitoring.md, "Against Evidently").

    python3 scripts/bench_monitoring.py                      # 1,000,000 x 20, then 90 windows
    python3 scripts/bench_monitoring.py --rows 100000        # smaller
    python3 scripts/bench_monitoring.py --decimals 6         # features with 6 decimals (continuous)
    MREG=.build/release/mreg python3 scripts/bench_monitoring.py
    MREG=.build/bench-core python3 scripts/bench_monitoring.py   # scripts/build-bench-core.sh

(a) Profiling: a reference of N rows x F numeric features and a batch of N rows (id, time, score,
    label + the same F features; the generator of scripts/bench_production.py). mreg: `register
    --reference ref.csv` (profiles the reference: two reads when a column has more distinct values
    than the profile counts) and `observe fraud@1 batch.csv` (checks and counts every row, profiles
    the features against the reference's bins, stores the file). Evidently: pandas reads both CSVs
    (timed on its own), then Report([DataDriftPreset()]).run(current, reference) on the F features.
(b) Monitoring: the data of scripts/monitor-simulation.py (a 5,000-row reference of amount, age,
    merchant; 90 daily windows of 1,000 rows). mreg: 90 `observe` (each profiles its batch) then
    one `monitor` over the 90 windows. Evidently: pandas reads the reference and the 90 files, then
    DataDriftPreset over each of the 90 (reference, window) pairs.
(c) Agreement: on the reference and one drifted window of (b) (amount doubled), mreg's psi, js and
    wasserstein per column (`bench-core drift`) beside Evidently's ValueDrift with method psi,
    jensenshannon and wasserstein (only with the bench-core driver, which has `drift`).

Wall and CPU time and peak RSS of each process come from GNU time. Evidently runs in a venv this
script makes (.venv-evidently, `pip install evidently "pandas<3"`: evidently 0.7 does not import with pandas 3); if that fails it says so and
measures mreg alone.
"""
import argparse
import importlib.util
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/mreg-bench-monitoring"
VENV = os.path.join(ROOT, ".venv-evidently")


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(args, env=None, cwd=None):
    """Runs a command under GNU time; returns (wall s, cpu s, peak RSS MiB, stdout)."""
    rss_file = os.path.join(WORK, ".rss")
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file] + args, env=env, cwd=cwd, capture_output=True)
    wall = time.monotonic() - start
    if p.returncode not in (0, 5):
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(args), p.stderr.decode()))
    with open(rss_file) as f:
        rss, user, system = f.read().strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss) / 1024, p.stdout.decode()


class Mreg:
    """The release `mreg`, or the bench-core driver (same core calls, other argument order)."""

    def __init__(self, path, reg):
        self.path, self.reg = path, reg
        self.core = os.path.basename(path) == "bench-core"
        self.env = dict(os.environ, MREG_USER="bench", MREG_HOST="bench")
        self.env.pop("MREG_REGISTRY", None)

    def run(self, when, *args):
        env = dict(self.env, MREG_TIME=when)
        return timed([self.path] + list(args), env)

    def init(self):
        return self.run("2025-12-31T12:00:00Z", *(["init", self.reg] if self.core else ["init", self.reg]))

    def register(self, art, metrics, reference):
        if self.core:
            return self.run("2025-12-31T12:00:00Z", "register", self.reg, "fraud", art, metrics, reference)
        return self.run("2025-12-31T12:00:00Z", "register", "fraud", art, "--metrics", metrics, "--reference", reference, "--registry", self.reg)

    def promote(self):
        if self.core:
            return self.run("2025-12-31T12:00:00Z", "promote", self.reg, "fraud@1", "production")
        return self.run("2025-12-31T12:00:00Z", "promote", "fraud@1", "--registry", self.reg)

    def observe(self, when, path):
        if self.core:
            return self.run(when, "observe", self.reg, "fraud@1", path)
        return self.run(when, "observe", "fraud@1", path, "--registry", self.reg)

    def monitor(self, when):
        if self.core:
            return self.run(when, "monitor", self.reg, "fraud")
        return self.run(when, "monitor", "fraud", "--json", "--registry", self.reg)


def evidently_python():
    """The venv's python with evidently and pandas, made if missing; None if they cannot be installed."""
    py = os.path.join(VENV, "bin", "python")
    check = [py, "-c", "import evidently, pandas; print(evidently.__version__, pandas.__version__)"]
    if os.path.exists(py) and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    p = subprocess.run([py, "-m", "pip", "install", "-q", "evidently", "pandas<3"], capture_output=True, text=True)
    if p.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        print("Evidently could not be installed in %s (pip: %s); measuring mreg alone" % (VENV, p.stderr.strip()[-300:]))
        return None
    return py


# ---- the Evidently side, run inside the venv (python bench_monitoring.py --evidently MODE …) ----

def evidently_main(mode, args):
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    out = {}
    # The first report imports and sets up much of Evidently: done once on 100 rows and timed apart.
    t = time.perf_counter()
    warm = pd.DataFrame({"a": [float(i % 7) for i in range(100)], "b": ["x" if i % 3 else "y" for i in range(100)]})
    Report([DataDriftPreset()]).run(current_data=warm, reference_data=warm)
    out["warm_up"] = time.perf_counter() - t
    if mode == "pair":
        ref_path, cur_path, features = args[0], args[1], args[2].split(",")
        t = time.perf_counter()
        ref = pd.read_csv(ref_path, usecols=features)
        out["read_reference"] = time.perf_counter() - t
        t = time.perf_counter()
        cur = pd.read_csv(cur_path, usecols=features)
        out["read_current"] = time.perf_counter() - t
        t = time.perf_counter()
        snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
        out["report"] = time.perf_counter() - t
        out["drifted"] = drifted_share(snap)
    elif mode == "windows":
        ref_path, days = args[0], args[1:]
        t = time.perf_counter()
        ref = pd.read_csv(ref_path)
        windows = [pd.read_csv(d, usecols=list(ref.columns)) for d in days]
        out["read"] = time.perf_counter() - t
        t = time.perf_counter()
        shares = [drifted_share(Report([DataDriftPreset()]).run(current_data=w, reference_data=ref)) for w in windows]
        out["reports"] = time.perf_counter() - t
        out["windows"] = len(windows)
        out["windows_with_drift"] = sum(1 for s in shares if s and s > 0)
    elif mode == "measures":
        from evidently.metrics import ValueDrift
        ref = pd.read_csv(args[0])
        cur = pd.read_csv(args[1], usecols=list(ref.columns))
        for column in ref.columns:
            numeric = pd.api.types.is_numeric_dtype(ref[column])
            methods = ["psi", "jensenshannon", "wasserstein"] if numeric else ["jensenshannon"]
            snap = Report([ValueDrift(column=column, method=m) for m in methods]).run(current_data=cur, reference_data=ref)
            values = [m.get("value") for m in snap.dict()["metrics"]]
            out[column] = dict(zip(methods, values))
    print(json.dumps(out))


def drifted_share(snapshot):
    """The share of drifted columns DataDriftPreset reports (its DriftedColumnsCount metric)."""
    for m in snapshot.dict()["metrics"]:
        v = m.get("value")
        if isinstance(v, dict) and "share" in v:
            return v["share"]
    return None


# ---- data ----

def make_reference(path, n, features, seed, decimals):
    rng = random.Random(seed)
    fmt = "%%.%df" % decimals
    with open(path, "w") as f:
        f.write(",".join("f%d" % i for i in range(features)) + "\n")
        lines = []
        for _ in range(n):
            lines.append(",".join(fmt % rng.random() for _ in range(features)) + "\n")
            if len(lines) == 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


def make_batch(path, n, features, seed, decimals):
    rng = random.Random(seed)
    fmt = "%%.%df" % decimals
    with open(path, "w") as f:
        f.write("id,time,score,label" + "".join(",f%d" % i for i in range(features)) + "\n")
        lines = []
        for i in range(n):
            sec = i * 86400 // n
            y = 1 if rng.random() < 0.2 else 0
            s = min(1.0, rng.random() * 0.7 + 0.3 * y)
            feats = "".join("," + fmt % rng.random() for _ in range(features))
            lines.append("d1-%d,2026-11-01T%02d:%02d:%02dZ,%.4f,%d%s\n" % (i, sec // 3600, sec % 3600 // 60, sec % 60, s, y, feats))
            if len(lines) == 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


def artefacts(root):
    os.makedirs(os.path.join(root, "art"), exist_ok=True)
    with open(os.path.join(root, "art", "w.bin"), "w") as f:
        f.write("weights")
    with open(os.path.join(root, "m.json"), "w") as f:
        f.write('{"recall": 0.8}')
    return os.path.join(root, "art"), os.path.join(root, "m.json")


def fmt(wall, cpu, rss):
    return "%.2f s wall, %.2f s CPU, peak RSS %.0f MiB" % (wall, cpu, rss)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--evidently":
        return evidently_main(sys.argv[2], sys.argv[3:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--decimals", type=int, default=3)
    ap.add_argument("--windows", type=int, default=90)
    ap.add_argument("--skip-pair", action="store_true", help="only (b) and (c)")
    ap.add_argument("--skip-windows", action="store_true", help="only (a)")
    ap.add_argument("--no-evidently", action="store_true", help="measure mreg alone")
    ap.add_argument("--data", help="keep the generated CSVs of (a) in this directory and reuse them")
    ap.add_argument("--make-data", action="store_true", help="with --data: only write the CSVs of (a), then stop")
    a = ap.parse_args()
    mreg_path = os.environ.get("MREG") or os.path.join(ROOT, ".build", "release", "mreg")
    if a.make_data:
        os.makedirs(a.data, exist_ok=True)
        tag = "%d-%d-%d" % (a.rows, a.features, a.decimals)
        make_reference(os.path.join(a.data, "ref-%s.csv" % tag), a.rows, a.features, 1, a.decimals)
        make_batch(os.path.join(a.data, "batch-%s.csv" % tag), a.rows, a.features, 2, a.decimals)
        return
    if not os.path.exists(mreg_path):
        sys.exit("build first: swift build -c release --product mreg, or sh scripts/build-bench-core.sh (or set MREG)")
    global WORK
    # Each run its own directory: GNU time's output file must not be shared by two runs.
    WORK = os.path.join(WORK, "run-%d" % os.getpid())
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    py = None if a.no_evidently else evidently_python()
    versions = subprocess.run([py, "-c", "import evidently, pandas; print(evidently.__version__, pandas.__version__)"],
                              capture_output=True, text=True).stdout.split() if py else ["-", "-"]
    print("machine: %s, %d cores, load average %s, Python %s, %s" % (platform.processor() or platform.machine(), os.cpu_count(),
          " ".join("%.1f" % x for x in os.getloadavg()), platform.python_version(), platform.platform()))
    print("mreg: %s; evidently %s, pandas %s" % (mreg_path, versions[0], versions[1]))
    art, metrics = artefacts(WORK)
    features = ",".join("f%d" % i for i in range(a.features))

    if not a.skip_pair:
        data = a.data or WORK
        os.makedirs(data, exist_ok=True)
        tag = "%d-%d-%d" % (a.rows, a.features, a.decimals)
        ref, batch = os.path.join(data, "ref-%s.csv" % tag), os.path.join(data, "batch-%s.csv" % tag)
        if not os.path.exists(ref):
            make_reference(ref + ".tmp", a.rows, a.features, 1, a.decimals)
            os.rename(ref + ".tmp", ref)
        if not os.path.exists(batch):
            make_batch(batch + ".tmp", a.rows, a.features, 2, a.decimals)
            os.rename(batch + ".tmp", batch)
        ref_mb, batch_mb = os.path.getsize(ref) / 1e6, os.path.getsize(batch) / 1e6
        m = Mreg(mreg_path, os.path.join(WORK, "reg"))
        m.init()
        w1, c1, r1, _ = m.register(art, metrics, ref)
        w2, c2, r2, _ = m.observe("2026-12-01T00:00:00Z", batch)
        print("(a) %d rows x %d features, %d decimals: reference %.0f MB, batch %.0f MB" % (a.rows, a.features, a.decimals, ref_mb, batch_mb))
        print("  mreg register --reference (profile the reference): %s; %.0f MB/s wall, %.0f MB/s of CPU" % (fmt(w1, c1, r1), ref_mb / w1, ref_mb / c1))
        print("  mreg observe (check, count, profile against the reference, store): %s; %.0f MB/s wall, %.0f MB/s of CPU"
              % (fmt(w2, c2, r2), batch_mb / w2, batch_mb / c2))
        if py:
            w3, c3, r3, out = timed([py, os.path.abspath(__file__), "--evidently", "pair", ref, batch, features])
            e = json.loads(out.strip().splitlines()[-1])
            read = e["read_reference"] + e["read_current"]
            print("  Evidently DataDriftPreset: pandas read %.2f s (reference %.2f, batch %.2f), report %.2f s, together %.2f s "
                  "(after a %.2f s first report on 100 rows); process %s; drifted share %s"
                  % (read, e["read_reference"], e["read_current"], e["report"], read + e["report"], e["warm_up"], fmt(w3, c3, r3), e["drifted"]))
            print("  mreg (register + observe) / Evidently (read + report): %.2fx wall; mreg / Evidently report alone: %.2fx wall; "
                  "%.3fx CPU (mreg's two processes / Evidently's process)" % ((w1 + w2) / (read + e["report"]), (w1 + w2) / e["report"], (c1 + c2) / c3))
        if not a.data:
            os.remove(ref)
            os.remove(batch)

    if a.skip_windows:
        return
    sim = load("monitor_simulation", "monitor-simulation.py")
    feed = sim.Feed(20261202)
    root = os.path.join(WORK, "windows")
    os.makedirs(root)
    ref = os.path.join(root, "ref.csv")
    with open(ref, "w") as f:
        f.write("\n".join(["amount,age,merchant"] + feed.rows(5000)) + "\n")
    days = []
    for d in range(a.windows):
        lines = ["id,time,score,amount,age,merchant"]
        for i, row in enumerate(feed.rows(1000)):
            t = "%sT%02d:%02d:%02dZ" % (sim.day_text(d), i * 24 // 1000, (i * 1440 // 1000) % 60, i % 60)
            lines.append("d%d-%d,%s,0.5,%s" % (d, i, t, row))
        p = os.path.join(root, "day%02d.csv" % d)
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        days.append(p)
    drifted = os.path.join(root, "drifted.csv")
    with open(drifted, "w") as f:
        f.write("\n".join(["amount,age,merchant"] + feed.rows(1000, amount_scale=2)) + "\n")
    m = Mreg(mreg_path, os.path.join(root, "reg"))
    m.init()
    m.register(art, metrics, ref)
    m.promote()
    obs_wall = obs_cpu = obs_rss = 0.0
    for d, p in enumerate(days):
        w, c, r, _ = m.observe(sim.day_text(d) + "T23:59:59Z", p)
        obs_wall += w
        obs_cpu += c
        obs_rss = max(obs_rss, r)
    mw, mc, mr, out = m.monitor(sim.day_text(a.windows) + "T06:10:00Z")
    windows = json.loads(out)["windows"]
    print("(b) %d daily windows of 1,000 rows against a 5,000-row reference (amount, age, merchant)" % a.windows)
    print("  mreg observe x %d (each profiles its batch): %.2f s wall, %.2f s CPU in all, peak RSS %.0f MiB" % (a.windows, obs_wall, obs_cpu, obs_rss))
    print("  mreg monitor over %d windows: %s" % (windows, fmt(mw, mc, mr)))
    if py:
        w, c, r, out = timed([py, os.path.abspath(__file__), "--evidently", "windows", ref] + days)
        e = json.loads(out.strip().splitlines()[-1])
        print("  Evidently DataDriftPreset x %d: pandas read %.2f s, reports %.2f s, together %.2f s (after a %.2f s first report on 100 rows); "
              "process %s; windows with a drifted column: %d"
              % (e["windows"], e["read"], e["reports"], e["read"] + e["reports"], e["warm_up"], fmt(w, c, r), e["windows_with_drift"]))
        print("  mreg monitor / Evidently reports: %.3fx wall; mreg (observe x %d + monitor) / Evidently (read + reports): %.2fx wall, "
              "%.3fx CPU (mreg's processes / Evidently's process)" % (mw / e["reports"], a.windows, (obs_wall + mw) / (e["read"] + e["reports"]),
                                                                    (obs_cpu + mc) / c))
        if m.core:
            _, _, _, mine = timed([mreg_path, "drift", ref, drifted])
            _, _, _, theirs = timed([py, os.path.abspath(__file__), "--evidently", "measures", ref, drifted])
            mine, theirs = json.loads(mine), json.loads(theirs.strip().splitlines()[-1])
            print("(c) one drifted window (amount x 2) against the reference: mreg / Evidently")
            for column in sorted(k for k in theirs if isinstance(theirs[k], dict)):
                for method, value in sorted(theirs[column].items()):
                    ours = mine.get(column, {}).get({"jensenshannon": "js"}.get(method, method))
                    print("  %-8s %-13s mreg %s  Evidently %s" % (column, method, "%.4f" % ours if ours is not None else "-",
                                                                   "%.4f" % value if isinstance(value, float) else value))


if __name__ == "__main__":
    main()
