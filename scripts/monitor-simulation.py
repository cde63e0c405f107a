#!/usr/bin/env python3
"""The alert-quality simulation of docs/monitoring.md, through the command line.

A 5,000-row reference, then 105 daily batches of 1,000 rows observed with `mreg observe`, and
`mreg monitor` run each morning as cron would (MREG_TIME the next day at 06:10), with
`--exec` appending the transitions' JSON to a file: 90 quiet days, 10 days with amount doubled,
then 5 days with age all missing (amount still doubled). The feed is the one of
Tests/MregCoreTests/AlertEngineTests.swift (same generator and seed). For the default policy
and the tuned one it prints false alerts in the 90 quiet windows, windows until the drift
alert, alerts raised by the broken feed, the days monitor exited 5, and whether --exec
delivered exactly the transitions printed.

Then (unless --no-bench) it times one `mreg monitor` over 90 daily windows on a registry
holding 90 observed batches of 1,000 rows.

Standard library only. Usage: python3 scripts/monitor-simulation.py [--mreg PATH] [--no-bench | --bench-only]
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

MASK = (1 << 64) - 1


class Feed:
    """SyntheticFeed of AlertEngineTests: a 64-bit LCG, Box-Muller normals."""

    def __init__(self, seed):
        self.state = seed

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return ((self.state >> 11) + 0.5) / float(1 << 53)

    def normal(self):
        # Swift evaluates the square root's uniform first, then the cosine's.
        a = self.uniform()
        b = self.uniform()
        return math.sqrt(-2 * math.log(a)) * math.cos(2 * math.pi * b)

    def rows(self, n, amount_scale=1.0, missing_age=0.0):
        merchants = ["grocery", "fuel", "travel", "online", "pharmacy"]
        out = []
        for _ in range(n):
            amount = math.exp(3 + 0.8 * self.normal()) * amount_scale
            age = "" if self.uniform() < missing_age else str(int(round(40 + 12 * self.normal())))
            u = self.uniform()
            m = merchants[0 if u < 0.4 else 1 if u < 0.6 else 2 if u < 0.7 else 3 if u < 0.9 else 4]
            out.append("%.2f,%s,%s" % (amount, age, m))
        return out


TUNED = """alerts:
  - when: missing_rate(*) > reference + 0.05
    severity: critical
  - when: schema_changes > 0
    severity: critical
  - when: psi(*) > 0.2
    min_rows: 200
    resolve_after: 3 windows
  - when: wasserstein(*) > 0.3
    min_rows: 200
    for: 2 windows
"""

DRIFT = ("psi(", "js(", "ks(", "wasserstein(")


def day_text(day):
    """2026-01-01 plus `day` days, as YYYY-MM-DD (day 0 is 2026-01-01)."""
    t = time.gmtime(1767225600 + day * 86400)
    return time.strftime("%Y-%m-%d", t)


class Lab:
    def __init__(self, mreg, root):
        self.mreg, self.root = mreg, root
        self.reg = os.path.join(root, "reg")
        self.run(["init", self.reg], registry=False)

    def run(self, args, when=None, registry=True):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.root, "MREG_USER": "sim", "MREG_HOST": "sim"}
        if when:
            env["MREG_TIME"] = when
        full = [self.mreg] + args[:1] + (["--registry", self.reg] if registry else []) + args[1:]
        return subprocess.run(full, cwd=self.root, env=env, capture_output=True, text=True)

    def write(self, name, lines):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path


def setup(mreg, root, feed, policy):
    lab = Lab(mreg, root)
    lab.write("ref.csv", ["amount,age,merchant"] + feed.rows(5000))
    lab.write("m.json", ['{"recall": 0.8}'])
    os.makedirs(os.path.join(root, "art"), exist_ok=True)
    with open(os.path.join(root, "art", "w.bin"), "w") as f:
        f.write("weights")
    for args in (["register", "fraud", "art", "--metrics", "m.json", "--reference", "ref.csv"], ["promote", "fraud@1"]):
        r = lab.run(args, when="2025-12-31T12:00:00Z")
        assert r.returncode == 0, r.stderr
    if policy == "tuned":
        lab.write("tuned.yaml", TUNED.splitlines())
        r = lab.run(["alerts", "fraud", "--set", "tuned.yaml"], when="2025-12-31T12:00:00Z")
        assert r.returncode == 0, r.stderr
    return lab


def observe_day(lab, feed, d, amount_scale=1.0, missing_age=0.0):
    rows = feed.rows(1000, amount_scale, missing_age)
    lines = ["id,time,score,amount,age,merchant"]
    for i, row in enumerate(rows):
        t = "%sT%02d:%02d:%02dZ" % (day_text(d), i * 24 // 1000, (i * 1440 // 1000) % 60, i % 60)
        lines.append("d%d-%d,%s,0.5,%s" % (d, i, t, row))
    lab.write("day.csv", lines)
    r = lab.run(["observe", "fraud@production", "day.csv"], when=day_text(d) + "T23:59:59Z")
    assert r.returncode == 0, r.stderr


def simulate(mreg, policy):
    root = tempfile.mkdtemp(prefix="mreg-monitor-sim-")
    try:
        feed = Feed(20261202)
        lab = setup(mreg, root, feed, policy)
        hook = os.path.join(root, "hook.jsonl")
        fired, exits5, printed = [], [], 0
        for d in range(105):
            if d < 90:
                observe_day(lab, feed, d)
            elif d < 100:
                observe_day(lab, feed, d, amount_scale=2)
            else:
                observe_day(lab, feed, d, amount_scale=2, missing_age=1)
            r = lab.run(["monitor", "fraud", "--json", "--exec", "cat >> " + hook], when=day_text(d + 1) + "T06:10:00Z")
            assert r.returncode in (0, 5), r.stderr
            report = json.loads(r.stdout)
            printed += len(report["transitions"])
            if r.returncode == 5:
                exits5.append(d + 1)
            for t in report["transitions"]:
                if t["kind"] == "fired":
                    fired.append((d + 1, t))
        delivered = 0
        if os.path.exists(hook):
            dec = json.JSONDecoder()
            text, i = open(hook).read(), 0
            while i < len(text):
                while i < len(text) and text[i].isspace():
                    i += 1
                if i < len(text):
                    obj, i = dec.raw_decode(text, i)
                    delivered += len(obj["transitions"])
        quiet = [t for day, t in fired if day <= 90]
        drift = [day for day, t in fired if 90 < day and t["rule"].startswith(DRIFT)]
        broken = [t for day, t in fired if day > 100]
        return {
            "false_alerts": len(quiet),
            "windows_to_drift_alert": (drift[0] - 90) if drift else None,
            "broken_feed_alerts": ["%s %s [%s]" % (t["severity"], t["rule"], t["column"]) for t in broken],
            "exit_5_days": exits5,
            "exec_delivered_all": delivered == printed,
            "transitions": printed,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench(mreg):
    root = tempfile.mkdtemp(prefix="mreg-monitor-bench-")
    try:
        feed = Feed(20261202)
        lab = setup(mreg, root, feed, "default")
        for d in range(90):
            observe_day(lab, feed, d)
        copy = os.path.join(root, "reg-copy")
        shutil.copytree(lab.reg, copy)
        times = []
        for _ in range(3):
            shutil.rmtree(lab.reg)
            shutil.copytree(copy, lab.reg)
            start = time.perf_counter()
            r = lab.run(["monitor", "fraud", "--json"], when=day_text(90) + "T06:10:00Z")
            times.append(time.perf_counter() - start)
            assert r.returncode in (0, 5) and json.loads(r.stdout)["windows"] == 90, r.stdout + r.stderr
        return times
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mreg", default=".build/debug/mreg")
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--bench-only", action="store_true")
    a = ap.parse_args()
    mreg = os.path.abspath(a.mreg)
    for policy in () if a.bench_only else ("default", "tuned"):
        r = simulate(mreg, policy)
        print("%-8s false alerts in 90 quiet windows: %d; windows until the drift alert: %s; alerts from the broken feed: %s; "
              "exit 5 on days %s; --exec delivered all %d transitions: %s"
              % (policy, r["false_alerts"], r["windows_to_drift_alert"], r["broken_feed_alerts"], r["exit_5_days"],
                 r["transitions"], r["exec_delivered_all"]))
        sys.stdout.flush()
    if not a.no_bench:
        t = bench(mreg)
        print("monitor over 90 daily windows (90 batches of 1,000 rows, default policy, 3 columns): %s s (3 runs, fresh copy each)"
              % ", ".join("%.3f" % x for x in t))


if __name__ == "__main__":
    main()
