#!/usr/bin/env bash
# The Case/Qwen run with fixed, non-secret routing knobs: provider `qwen-local`, model
# `qwen3.6-35b-a3b`, engine `case`. Delegates to run-case.sh --engine case, so the run
# directory keeps the Harness Evidence Interface shape.
#
#   harness/evals/case-qwen-loop.sh --json [--fixture ID] [--runs-dir D] [...]
#
# Requires from the caller: CTO_HARNESS_CASE_BIN (the Case executable) and
# CTO_HARNESS_CASE_MODEL_ADMISSION_FILE (admitted provider/model pairs).
# The endpoint comes from CTO_HARNESS_CASE_LOCAL_BASE_URL at runtime; this script only says
# whether it is set, never its value. When it is missing the run itself blocks before the
# agent starts, with backend/provider-local-config-unavailable.txt as evidence.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

readonly PROVIDER="qwen-local"
readonly MODEL="qwen3.6-35b-a3b"

refuse() {
  echo "case-qwen-loop.sh: $*" >&2
  exit 64
}

for arg in "$@"; do
  case "$arg" in
    --provider|--provider=*|--model|--model=*|--engine|--engine=*)
      refuse "${arg%%=*} is fixed by this entrypoint (provider $PROVIDER, model $MODEL, engine case); use harness/evals/run-case.sh for other routing" ;;
  esac
done

if [ -z "${CTO_HARNESS_CASE_BIN:-}" ]; then
  refuse "CTO_HARNESS_CASE_BIN is not set; export it to the path of the Case agent executable (e.g. export CTO_HARNESS_CASE_BIN=/path/to/case)"
fi
if [ ! -x "$CTO_HARNESS_CASE_BIN" ] && ! command -v -- "$CTO_HARNESS_CASE_BIN" >/dev/null 2>&1; then
  refuse "CTO_HARNESS_CASE_BIN does not name an executable file; expected the path of the Case agent executable"
fi
if [ -z "${CTO_HARNESS_CASE_MODEL_ADMISSION_FILE:-}" ]; then
  refuse "CTO_HARNESS_CASE_MODEL_ADMISSION_FILE is not set; export it to an admission file (YAML or JSON) admitting $PROVIDER / $MODEL"
fi
if [ ! -r "$CTO_HARNESS_CASE_MODEL_ADMISSION_FILE" ]; then
  refuse "CTO_HARNESS_CASE_MODEL_ADMISSION_FILE names a file that cannot be read; expected an admission file (YAML or JSON) admitting $PROVIDER / $MODEL"
fi

# Non-secret readiness line, in the style of the planning record ("=missing" / "=set").
if [ -n "${CTO_HARNESS_CASE_LOCAL_BASE_URL:-}" ]; then
  echo "case-qwen-loop.sh: CTO_HARNESS_CASE_LOCAL_BASE_URL=set; provider $PROVIDER, model $MODEL, engine case" >&2
else
  echo "case-qwen-loop.sh: CTO_HARNESS_CASE_LOCAL_BASE_URL=missing; the run will block before the Case process starts" >&2
fi

exec "$here/run-case.sh" --engine case --provider "$PROVIDER" --model "$MODEL" "$@"
