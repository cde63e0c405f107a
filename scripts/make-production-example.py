#!/usr/bin/env python3
"""Writes a month of production traffic for the example registry (docs/production.md): fraud@1
(the production champion, back after the rollback) and fraud@4 (the challenger) served 50/50 in
November 2026, one CSV a day, and fraud labels that arrive a week late, one file a week. fraud@1's
recall slides from its evaluation value (0.72) to about 0.55 in the second half of the month;
fraud@4 holds about 0.76. From 27 November the amounts are three times larger (drift for
`mreg monitor`); reference.csv holds 2,000 amounts as fraud@1 was trained on (`--reference`).

Usage: python3 scripts/make-production-example.py OUTDIR
Standard library only, seeded: the same files on every machine.
"""
import os
import random
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(15)
ROWS_PER_DAY = 400
PREVALENCE = 0.15
DRIFT_FROM = 27


def recall_of(version, day):
    if version == 4:
        return 0.76
    return 0.72 if day <= 12 else max(0.55, 0.72 - 0.02 * (day - 12))


labels_by_week = {}
for day in range(1, 31):
    lines = ["id,time,version,score,human,amount"]
    for i in range(ROWS_PER_DAY):
        rid = f"tx-{day:02d}-{i:04d}"
        sec = int(i * 86400 / ROWS_PER_DAY)
        t = f"2026-11-{day:02d}T{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}Z"
        version = 1 if i % 2 == 0 else 4
        fraud = rng.random() < PREVALENCE
        caught = rng.random() < (recall_of(version, day) if fraud else 0.01)
        score = rng.uniform(0.5, 1.0) if caught else rng.uniform(0.0, 0.5)
        decision = 1 if score >= 0.5 else 0
        human = ""
        if i % 10 in (0, 1):  # an analyst reviews one row in five and agrees nine times in ten
            human = str(decision if rng.random() < 0.9 else 1 - decision)
        amount = round(rng.lognormvariate(3.5, 1.0), 2)
        if day >= DRIFT_FROM:  # a new merchant segment: amounts three times larger
            amount = round(amount * 3, 2)
        lines.append(f"{rid},{t},{version},{score:.4f},{human},{amount}")
        labels_by_week.setdefault((day - 1) // 7, []).append(f"{rid},{1 if fraud else 0}")
    with open(os.path.join(out, f"day-2026-11-{day:02d}.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
# Labels of days 1-7 arrive on day 14, of days 8-14 on day 21, of days 15-21 on day 28.
for week in range(3):
    with open(os.path.join(out, f"labels-week-{week + 1}.csv"), "w") as f:
        f.write("id,label\n" + "\n".join(labels_by_week[week]) + "\n")
# The features fraud@1 was trained on (its own generator: the traffic above is unchanged by it).
ref = random.Random(16)
with open(os.path.join(out, "reference.csv"), "w") as f:
    f.write("amount\n" + "\n".join(f"{round(ref.lognormvariate(3.5, 1.0), 2)}" for _ in range(2000)) + "\n")
