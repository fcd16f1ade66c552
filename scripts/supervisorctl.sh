#!/usr/bin/env bash
# supervisorctl for the FlashMM that `make run`/`make start` runs (FLASHMM_HOME as they use it, default ./var):
#   scripts/supervisorctl.sh status | restart engine | tail -f engine stderr
set -euo pipefail
cd "$(dirname "$0")/.."
FLASHMM_HOME=$(realpath -m "${FLASHMM_HOME:-$(pwd)/var}")
export FLASHMM_HOME
export FLASHMM_DAGSTER_PORT="${FLASHMM_DAGSTER_PORT:-3000}"
exec .venv/bin/supervisorctl -c deploy/supervisord.conf "$@"
