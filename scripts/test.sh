#!/usr/bin/env bash
# The test command of the README and of CI: installs what the tests need (scripts/install-deps.sh),
# then runs the whole suite. A bare `swift test` runs the same tests and says loudly which ones it
# skipped for a missing tool.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift test "$@"
