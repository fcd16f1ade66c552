#!/usr/bin/env bash
# `make run`: the whole system under supervisord on embedded defaults (SQLite, no Redis): the sim venue, the
# engine paper-trading on it, dagster-webserver on 127.0.0.1:3000 and dagster-daemon. Foreground by default
# (Ctrl-C stops everything); `--detach` returns once supervisord runs, and `make stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export FLASHMM_HOME="${FLASHMM_HOME:-$ROOT/var}"
export DAGSTER_HOME="${DAGSTER_HOME:-$FLASHMM_HOME/dagster_home}"
export GX_ANALYTICS_ENABLED=false
SECRETS="$FLASHMM_HOME/secrets.env"
CONF="$ROOT/deploy/supervisord.conf"
SUPERVISORCTL=("$ROOT/.venv/bin/supervisorctl" -c "$CONF")

mkdir -p "$ROOT/var/log" "$DAGSTER_HOME"
[[ -f "$DAGSTER_HOME/dagster.yaml" ]] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"

# First start: a sim-venue API key and a control token of this machine's own, kept 0600 under var/.
if [[ ! -f "$SECRETS" ]]; then
  umask 077
  key=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')
  token=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')
  printf "FLASHMM_SIM__API_KEYS='{\"mm\": \"%s\"}'\nFLASHMM_CONTROL__TOKEN=%s\n" "$key" "$token" >"$SECRETS"
  echo "run: wrote a sim API key and a control token to $SECRETS (mode 600)"
fi
set -a
# shellcheck disable=SC1090
source "$SECRETS"
set +a
export FLASHMM_ENGINE__MODEL_NAME="${FLASHMM_ENGINE__MODEL_NAME:-flashmm}"

if "${SUPERVISORCTL[@]}" pid >/dev/null 2>&1; then
  echo "run: FlashMM is already running (make stop first)" >&2
  exit 1
fi

cat <<INFO
FlashMM is starting (logs in $ROOT/var/log):
  Dagster UI        http://127.0.0.1:3000
  engine status     .venv/bin/flashmm status        (control token in $SECRETS)
  processes         .venv/bin/supervisorctl -c deploy/supervisord.conf status
  stop              Ctrl-C, or make stop for a detached run
INFO
if [[ "${1:-}" == "--detach" ]]; then
  exec .venv/bin/supervisord -c "$CONF"
fi
exec .venv/bin/supervisord -n -c "$CONF"
