#!/usr/bin/env bash
# `npm run test:real`: the real-server tier (docs/real-server.md). Builds llama-server first
# (once per machine: a no-op when cached) unless CTO_HARNESS_REAL_BASE_URL points the tier at
# the user's own server.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${CTO_HARNESS_REAL_BASE_URL:-}" ]; then
  scripts/llama-server/build.sh >/dev/null
fi
exec npx vitest run --config vitest.real.config.ts "$@"
