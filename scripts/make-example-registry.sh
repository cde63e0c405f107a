#!/usr/bin/env bash
# Regenerates .registry-example/ from Fixtures/example/ with mreg itself.
# Run it whenever the registry format changes: `bash scripts/make-example-registry.sh`.
# Times, user and host are fixed, so the result is the same byte for byte on every machine.
set -euo pipefail
cd "$(dirname "$0")/.."
MREG=${MREG:-}
if [ -z "$MREG" ]; then
  swift build >/dev/null
  MREG="$(swift build --show-bin-path)/mreg"
fi
export MREG_USER=release-bot MREG_HOST=ci.example MREG_NO_STAT_CACHE=1
unset MREG_REGISTRY
R=.registry-example
X=Fixtures/example
rm -rf "$R"
"$MREG" init "$R" >/dev/null
m() { "$MREG" "$1" --registry "$R" "${@:2}"; }
at() { export MREG_TIME="$1"; }

# Production traffic, labels and fraud@1's reference features (scripts/make-production-example.py).
P=$(mktemp -d)
python3 scripts/make-production-example.py "$P"

at 2026-10-01T09:00:00Z; m register fraud "$X/v1/model" --metrics "$X/v1/metrics.json" --params "$X/v1/params.json" \
  -m "gbdt baseline model" --label team=risk --data s3://datasets/tx-2026-09 --code-revision 4e1c2a9 --reference "$P/reference.csv"
at 2026-10-01T09:05:00Z; m baseline fraud rules-v1 --metrics "$X/baseline-rules-v1.json" >/dev/null
at 2026-10-01T09:10:00Z; m gates fraud --set "$X/policy.yaml" >/dev/null
at 2026-10-01T09:15:00Z; m alerts fraud --set "$X/alert-policy.yaml" >/dev/null
at 2026-10-01T10:00:00Z; m promote fraud@1 --stage staging >/dev/null
at 2026-10-02T10:00:00Z; m promote fraud@1 --stage production >/dev/null
at 2026-10-08T09:00:00Z; m register fraud "$X/v2/model" --metrics "$X/v2/metrics.json" --params "$X/v2/params.json" \
  -m "more trees, tuned depth" --label team=risk --data s3://datasets/tx-2026-10 --code-revision 7b3d0f1
at 2026-10-08T10:00:00Z; m promote fraud@2 --stage staging >/dev/null
at 2026-10-09T10:00:00Z; m promote fraud@2 --stage production >/dev/null
at 2026-10-15T09:00:00Z; m register fraud "$X/v3/model" --metrics "$X/v3/metrics.json" --params "$X/v3/params.json" \
  -m "lower learning rate" --label team=risk --data s3://datasets/tx-2026-10 --code-revision 9a4e6c2
at 2026-10-15T10:00:00Z; m promote fraud@3 --stage staging >/dev/null
at 2026-10-16T10:00:00Z; m promote fraud@3 --stage production >/dev/null && { echo "fraud@3 should have been blocked" >&2; exit 1; } || [ $? -eq 3 ]
at 2026-10-20T08:30:00Z; m rollback fraud --stage production --reason "fraud@2 raised false positives on new merchants (INC-2291)" >/dev/null
at 2026-10-27T09:00:00Z; m register fraud "$X/v4/model" --metrics "$X/v4/metrics.json" --params "$X/v4/params.json" \
  -m "merchant-category features" --label team=risk --data s3://datasets/tx-2026-10 --code-revision c81f2d7
at 2026-10-27T10:00:00Z; m promote fraud@4 --stage staging >/dev/null

# churn: three scikit-learn models registered by their predictions on the same 3000 rows
# (Fixtures/example/churn, made by scripts/make-churn-predictions.py). churn@2's f1 gain is
# within the noise and is blocked by `f1 > champion with 95% confidence`; churn@3's is real.
C="$X/churn"
churn() { m register churn "$C/$1/model" --predictions "$C/$1/predictions.csv" --slice-by plan \
  --train-window 2026-07-01..2026-09-30 --importance "$C/$1/importance.json" -m "$2" --label team=growth >/dev/null; }
at 2026-11-02T09:00:00Z; churn v1 "logistic regression on usage drop and support calls"
at 2026-11-02T09:05:00Z; m gates churn --set "$C/policy.yaml" >/dev/null
at 2026-11-02T10:00:00Z; m promote churn@1 >/dev/null
at 2026-11-09T09:00:00Z; churn v2 "adds tenure gap, from the cheaper CRM export"
at 2026-11-09T10:00:00Z; m promote churn@2 >/dev/null && { echo "churn@2 should have been blocked" >&2; exit 1; } || [ $? -eq 3 ]
at 2026-11-16T09:00:00Z; churn v3 "adds tenure gap, from the billing system"
at 2026-11-16T10:00:00Z; m promote churn@3 >/dev/null

# Production (docs/production.md): fraud@1 (production) and fraud@4 (challenger) served 50/50 in
# November, one batch a day, fraud labels a week late (scripts/make-production-example.py).
for d in $(seq -w 1 30); do
  at "2026-11-${d}T23:59:59Z"; m observe fraud@production "$P/day-2026-11-$d.csv" --source ab >/dev/null
  case $d in 14) w=1 ;; 21) w=2 ;; 28) w=3 ;; *) w= ;; esac
  if [ -n "$w" ]; then m observe fraud --labels "$P/labels-week-$w.csv" >/dev/null; fi
done
rm -rf "$P"
unset MREG_TIME
m fsck
