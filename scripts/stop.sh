#!/usr/bin/env bash
# `make stop`: stop a FlashMM started with `make start` and wait until supervisord and every process it ran
# are gone (supervisorctl shutdown alone returns before they have stopped). `--full`: the `make start-full`
# run (default FLASHMM_HOME ./var/full).
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_HOME="$(pwd)/var"
[[ "${1:-}" == "--full" ]] && DEFAULT_HOME="$(pwd)/var/full"
FLASHMM_HOME=$(realpath -m "${FLASHMM_HOME:-$DEFAULT_HOME}")
export FLASHMM_HOME
export FLASHMM_DAGSTER_PORT="${FLASHMM_DAGSTER_PORT:-3000}"
PIDFILE="$FLASHMM_HOME/supervisord.pid"
STOP_WAIT_S=90
SUPERVISORCTL=(scripts/supervisorctl.sh)
if ! "${SUPERVISORCTL[@]}" pid >/dev/null 2>&1; then
  echo "stop: FlashMM is not running"
  exit 0
fi
pid=$(cat "$PIDFILE")
"${SUPERVISORCTL[@]}" shutdown >/dev/null
for _ in $(seq "$STOP_WAIT_S"); do
  kill -0 "$pid" 2>/dev/null || { echo "stop: FlashMM stopped"; exit 0; }
  sleep 1
done
echo "stop: supervisord ($pid) still runs after ${STOP_WAIT_S} s; see $FLASHMM_HOME/log/supervisord.log" >&2
exit 1
