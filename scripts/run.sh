#!/usr/bin/env bash
# `make run`: the whole system under supervisord on embedded defaults (SQLite, no Redis): the sim venue, the
# engine paper-trading on it, dagster-webserver on 127.0.0.1:$FLASHMM_DAGSTER_PORT (3000) and dagster-daemon.
# Foreground by default (Ctrl-C stops everything); `--detach` returns once supervisord runs, and `make stop`
# stops it. State, logs and the supervisor socket live in $FLASHMM_HOME (default ./var).
# `--full` (`make run-full`): the same processes on PostgreSQL (ledger, registry, Dagster storage), Redis
# (hot state, model stream), victoria-metrics for the InfluxDB write API and Prometheus scraping the engine;
# servers already listening are used, missing ones come from scripts/ensure-services.sh and ensure-tools.sh.
# State in $FLASHMM_HOME (default ./var/full).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DETACH=0 FULL=0
for arg in "$@"; do
  case "$arg" in
    --detach) DETACH=1 ;;
    --full) FULL=1 ;;
    *) echo "run: unknown option $arg (expected --detach, --full)" >&2; exit 2 ;;
  esac
done
DEFAULT_HOME="$ROOT/var"
[[ $FULL == 1 ]] && DEFAULT_HOME="$ROOT/var/full"
FLASHMM_HOME=$(realpath -m "${FLASHMM_HOME:-$DEFAULT_HOME}")
export FLASHMM_HOME
export DAGSTER_HOME="${DAGSTER_HOME:-$FLASHMM_HOME/dagster_home}"
export FLASHMM_DAGSTER_PORT="${FLASHMM_DAGSTER_PORT:-3000}"
export GX_ANALYTICS_ENABLED=false
SECRETS="$FLASHMM_HOME/secrets.env"
FIRST_HOUR="$FLASHMM_HOME/first_hour"
CONF="$ROOT/deploy/supervisord.conf"
SUPERVISORCTL=("$ROOT/.venv/bin/supervisorctl" -c "$CONF")

mkdir -p "$FLASHMM_HOME/log" "$DAGSTER_HOME"
if [[ $FULL == 1 ]]; then
  source scripts/run-full-env.sh
else
  [[ -f "$DAGSTER_HOME/dagster.yaml" ]] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
fi

# First start: a sim-venue API key and a control token of this machine's own, kept 0600 under FLASHMM_HOME.
if [[ ! -f "$SECRETS" ]]; then
  (
    umask 077
    key=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')
    token=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')
    printf "FLASHMM_SIM__API_KEYS='{\"mm\": \"%s\"}'\nFLASHMM_CONTROL__TOKEN=%s\n" "$key" "$token" >"$SECRETS"
  )
  echo "run: wrote a sim API key and a control token to $SECRETS (mode 600)"
fi
set -a
# shellcheck disable=SC1090
source "$SECRETS"
set +a
# The lifecycle's partitions start at the hour of the first start (kept, so later starts see the same ones)
# and cover the market the engine records; the engine serves what the lifecycle promotes.
[[ -f "$FIRST_HOUR" ]] || date -u +%Y-%m-%d-%H:00 >"$FIRST_HOUR"
export FLASHMM_PIPELINE__START="${FLASHMM_PIPELINE__START:-$(cat "$FIRST_HOUR")}"
export FLASHMM_PIPELINE__MARKETS="${FLASHMM_PIPELINE__MARKETS:-[\"sim-ethusd\"]}"
export FLASHMM_PIPELINE__CONTROL_URL="${FLASHMM_PIPELINE__CONTROL_URL:-http://127.0.0.1:${FLASHMM_CONTROL__PORT:-8787}}"
export FLASHMM_ENGINE__MODEL_NAME="${FLASHMM_ENGINE__MODEL_NAME:-flashmm}"

if "${SUPERVISORCTL[@]}" pid >/dev/null 2>&1; then
  echo "run: FlashMM is already running (make stop first)" >&2
  exit 1
fi

cat <<INFO
FlashMM is starting (logs in $FLASHMM_HOME/log, FLASHMM_HOME=$FLASHMM_HOME):
  Dagster UI        http://127.0.0.1:$FLASHMM_DAGSTER_PORT
  engine status     .venv/bin/flashmm status        (control token in $SECRETS)
  processes         scripts/supervisorctl.sh status
  stop              Ctrl-C, or make stop for a detached run
The first model: the engine quotes plain Avellaneda-Stoikov until the pipeline has trained, validated and
promoted one from the engine's own recording (a few minutes; watch the bootstrap_lifecycle sensor).
INFO
if [[ $DETACH == 1 ]]; then
  exec .venv/bin/supervisord -c "$CONF"
fi
exec .venv/bin/supervisord -n -c "$CONF"
