#!/bin/sh
# Fetch benchmark: `mreg fetch` of one large incompressible file against what peers and plain
# tools take to put the same bytes in place, measured in one run, interleaved, medians.
#
#   scripts/bench_fetch.sh                      # 1 GiB, 5 rounds (~5 minutes)
#   SIZE_MIB=256 ROUNDS=3 scripts/bench_fetch.sh
#   MREG=/path/to/mreg scripts/bench_fetch.sh   # a given binary (else a release build is made)
#
# Each round runs every method once, in the same order, on a freshly removed target, after an
# untimed `sync` so no method pays for another's writeback; sources stay warm in the page cache.
# "durable" means the bytes were flushed: `sync FILE` (fsync of that file) after the copy, and for
# dvc also a plain `sync` (every file system, as the issue measured it). dvc is
# installed into .venv-bench (skipped with a note if it will not install); git must be on PATH.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-5}
W=${BENCH_DIR:-/tmp/mreg-bench-fetch}

if [ -z "${MREG:-}" ]; then
    echo "building release mreg (static stdlib; several minutes the first time)..." >&2
    (cd "$ROOT" && swift build -c release --static-swift-stdlib >/dev/null)
    MREG="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/mreg"
fi
DVC=""
if [ ! -x "$ROOT/.venv-bench/bin/dvc" ]; then
    echo "installing dvc into .venv-bench..." >&2
    (python3 -m venv "$ROOT/.venv-bench" && "$ROOT/.venv-bench/bin/pip" install -q dvc) >&2 || true
fi
[ -x "$ROOT/.venv-bench/bin/dvc" ] && DVC="$ROOT/.venv-bench/bin/dvc" || echo "note: dvc did not install; its rows are skipped" >&2

chmod -R u+w "$W" 2>/dev/null || true
rm -rf "$W"
mkdir -p "$W/src" "$W/out"
echo "making ${SIZE_MIB} MiB of random bytes and storing them in mreg, git and dvc..." >&2
head -c "$((SIZE_MIB * 1048576))" /dev/urandom > "$W/src/big.bin"
"$MREG" init "$W/reg" >/dev/null
echo '{"f1": 0.5}' > "$W/src/m.json"
"$MREG" register big "$W/src/big.bin" --metrics "$W/src/m.json" --registry "$W/reg" >/dev/null
git init -q "$W/git"
BLOB=$(cd "$W/git" && git hash-object -w "$W/src/big.bin")
if [ -n "$DVC" ]; then
    mkdir "$W/dvc" && cd "$W/dvc" && git init -q && "$DVC" init -q && cp "$W/src/big.bin" . && "$DVC" add -q big.bin >/dev/null
    cd "$W"
fi

now() { date +%s%N; }
# time_it NAME COMMAND...: runs COMMAND (a shell string) once and appends the seconds to NAME's list.
time_it() {
    name=$1; shift
    sync
    t0=$(now)
    sh -c "$1" >/dev/null 2>&1 || { echo "FAILED: $name: $1" >&2; exit 1; }
    t1=$(now)
    echo "$(( (t1 - t0) / 1000000 ))" >> "$W/times.$name"
}

O="$W/out"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round of $ROUNDS" >&2
    rm -rf "$O/m"; time_it mreg_fetch "'$MREG' fetch big@1 --registry '$W/reg' --out '$O/m'"
    time_it mreg_fetch_noop "'$MREG' fetch big@1 --registry '$W/reg' --out '$O/m'"
    if [ -n "$DVC" ]; then
        rm -f "$W/dvc/big.bin"; time_it dvc_checkout "cd '$W/dvc' && '$DVC' checkout -q"
        rm -f "$W/dvc/big.bin"; time_it dvc_checkout_sync_file "cd '$W/dvc' && '$DVC' checkout -q && sync big.bin"
        rm -f "$W/dvc/big.bin"; time_it dvc_checkout_sync "cd '$W/dvc' && '$DVC' checkout -q && sync"
    fi
    rm -f "$O/cp"; time_it cp "cp '$W/src/big.bin' '$O/cp'"
    rm -f "$O/cp"; time_it cp_sync "cp '$W/src/big.bin' '$O/cp' && sync '$O/cp'"
    rm -f "$O/git"; time_it git_cat_file_sync "cd '$W/git' && git cat-file blob $BLOB > '$O/git' && sync '$O/git'"
    time_it sha256sum "sha256sum '$W/src/big.bin'"
done

median() { sort -n "$W/times.$1" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }'; }
ref=$(median mreg_fetch)
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(df -T "$W" | awk 'NR == 2 { print $2 }') at $W"
echo "file: $SIZE_MIB MiB random bytes; $ROUNDS interleaved rounds; median seconds"
echo
echo "| method | median (s) | mreg fetch / this |"
echo "|---|---|---|"
for name in mreg_fetch mreg_fetch_noop dvc_checkout dvc_checkout_sync_file dvc_checkout_sync cp cp_sync git_cat_file_sync sha256sum; do
    [ -f "$W/times.$name" ] || continue
    m=$(median "$name")
    echo "| $name | $m | $(awk -v a="$ref" -v b="$m" 'BEGIN { printf "%.2f", a / b }') |"
done
