#!/usr/bin/env bash
# A longer kill -9 soak than the test suite's: registers, promotions, rollbacks and fetches run
# concurrently on one registry while random ones are killed; then the registry is verified.
#
#   bash scripts/soak.sh [SECONDS]      (default 60)
#
# Exits non-zero if fsck fails, if a reported success is missing, or if version numbers are not dense.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-60}
MREG=${MREG:-}
if [ -z "$MREG" ]; then swift build -c release --static-swift-stdlib >/dev/null; MREG="$(swift build -c release --static-swift-stdlib --show-bin-path)/mreg"; fi
W=$(mktemp -d /tmp/mreg-soak-XXXXXX)
trap 'chmod -R u+w "$W"; rm -rf "$W"' EXIT
R="$W/reg"
export MREG_LOCK_TIMEOUT=60
"$MREG" init "$R" >/dev/null
for i in $(seq 0 7); do
  mkdir -p "$W/a$i"; head -c $((1 + i * 400000)) /dev/urandom > "$W/a$i/w.bin"
  echo "{\"f1\": 0.$((50 + i))}" > "$W/m$i.json"
done
"$MREG" register --registry "$R" fraud "$W/a0" --metrics "$W/m0.json" >/dev/null
"$MREG" promote --registry "$R" fraud@1 --override soak >/dev/null
: > "$W/ok"
end=$((SECONDS + DURATION)); rounds=0; kills=0
while [ $SECONDS -lt $end ]; do
  pids=()
  for j in $(seq 0 5); do
    i=$((RANDOM % 8))
    # Each subshell's stderr is discarded too: bash reports a child killed by SIGKILL there
    # ("line 1: 1234 Killed ..."), hundreds of times in a long soak; kills are counted below.
    case $((RANDOM % 4)) in
      0|1) ( out=$("$MREG" register --registry "$R" fraud "$W/a$i" --metrics "$W/m$i.json" 2>/dev/null) && echo "$out" >> "$W/ok" ) 2>/dev/null & ;;
      2)   ( "$MREG" promote --registry "$R" "fraud@$((RANDOM % 3 + 1))" --override soak >/dev/null 2>&1 || true ) 2>/dev/null & ;;
      3)   ( d="$W/out-$rounds-$j"; "$MREG" fetch --registry "$R" fraud@production --out "$d" >/dev/null 2>&1 && rm -rf "$d" || true ) 2>/dev/null & ;;
    esac
    pids+=($!)
  done
  sleep "0.0$((RANDOM % 9))"
  for p in "${pids[@]}"; do
    if [ $((RANDOM % 2)) -eq 0 ]; then pkill -KILL -P "$p" 2>/dev/null && kills=$((kills + 1)) || true; fi
  done
  wait || true
  rounds=$((rounds + 1))
done
"$MREG" fsck --registry "$R"
n=$("$MREG" list --registry "$R" fraud --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))')
while read -r name id; do
  [ -z "$name" ] && continue
  got=$("$MREG" resolve --registry "$R" "$name")
  [ "$got" = "$name $id" ] || { echo "soak: reported success $name $id is missing (got: $got)" >&2; exit 1; }
done < "$W/ok"
for v in $(seq 1 "$n"); do "$MREG" resolve --registry "$R" "fraud@$v" >/dev/null; done
echo "soak: $rounds rounds, $kills kills, $n versions dense, $(wc -l < "$W/ok") reported successes durable, fsck ok"
