#!/usr/bin/env bash
# The test command of the README and of CI: installs what the tests need (scripts/install-deps.sh),
# then runs the whole suite. A bare `swift test` runs the same tests and says loudly which ones it
# skipped for a missing tool.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The remote (S3) tests: a SeaweedFS server on 127.0.0.1 for the length of the run; the role
# credential tests: moto's STS server on 127.0.0.1 (scripts/sts-server.sh).
s3_env=$(bash scripts/s3-server.sh start)
trap 'bash scripts/s3-server.sh stop; bash scripts/sts-server.sh stop' EXIT
sts_env=$(bash scripts/sts-server.sh start)
# shellcheck disable=SC1090
source "$s3_env"
# shellcheck disable=SC1090
source "$sts_env"
swift test "$@"
