#!/usr/bin/env bash
# Aggregate validator: checks the local set-up and runs every named validator case
# against the built-in simulator. Thin wrapper over `cto-harness health`.
#
#   harness/evals/health.sh --json
#
# Exit code 0 when every check and case passes, non-zero otherwise.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../../bin/cto-harness" health "$@"
