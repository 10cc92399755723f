#!/usr/bin/env bash
# One harness run of the Case agent (or the fake baseline) on a fixture, writing a run
# directory in the Harness Evidence Interface shape. Thin wrapper over `cto-harness run`.
#
#   harness/evals/run-case.sh --engine case|fake [--fixture ID] [other `cto-harness run` options]
#
# --engine fake means the fake-noop baseline engine. --fixture defaults to r1-string-slugify.
# Every other argument is passed to `cto-harness run` unchanged (e.g. --json, --provider,
# --model, --runs-dir, --isolation). Exit code is the run's: 0 pass, 1 fail, 2 blocked,
# 3 harness error, 64 usage error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cli="$root/bin/cto-harness"

usage() {
  echo "usage: harness/evals/run-case.sh --engine case|fake [--fixture ID] [cto-harness run options...]" >&2
}

engine=""
fixture="r1-string-slugify"
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) [ $# -ge 2 ] || { echo "run-case.sh: --engine needs a value (case or fake)" >&2; usage; exit 64; }
              engine="$2"; shift 2 ;;
    --engine=*) engine="${1#--engine=}"; shift ;;
    --fixture) [ $# -ge 2 ] || { echo "run-case.sh: --fixture needs a value" >&2; usage; exit 64; }
               fixture="$2"; shift 2 ;;
    --fixture=*) fixture="${1#--fixture=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done

case "$engine" in
  case) cli_engine="case" ;;
  fake) cli_engine="fake-noop" ;;
  "") echo "run-case.sh: --engine is required (case or fake)" >&2; usage; exit 64 ;;
  *) echo "run-case.sh: unknown --engine '$engine'; expected case or fake" >&2; usage; exit 64 ;;
esac

exec "$cli" run --fixture "$fixture" --engine "$cli_engine" ${pass[@]+"${pass[@]}"}
