# Sourced by scripts/run.sh --full: services, databases, Dagster's PostgreSQL storage, the Prometheus config,
# and the environment pointing every process at them. Settings (environment, defaults in brackets):
#   FLASHMM_PG_PORT [5432], FLASHMM_REDIS_PORT [6379]    servers (used if listening, else started)
#   FLASHMM_RUN_PG_SERVER [postgresql+psycopg://postgres@127.0.0.1:$FLASHMM_PG_PORT]
#   FLASHMM_RUN_DB [flashmm]    ledger + registry database; Dagster's is <db>_dagster (both created if missing)
#   FLASHMM_RUN_REDIS_DB [0]    Redis database number
#   FLASHMM_VM_PORT [8428], FLASHMM_PROMETHEUS_PORT [9090]
# shellcheck shell=bash
scripts/ensure-services.sh
scripts/ensure-tools.sh
export FLASHMM_VM_PORT="${FLASHMM_VM_PORT:-8428}"
export FLASHMM_PROMETHEUS_PORT="${FLASHMM_PROMETHEUS_PORT:-9090}"
PG_SERVER="${FLASHMM_RUN_PG_SERVER:-postgresql+psycopg://postgres@127.0.0.1:${FLASHMM_PG_PORT:-5432}}"
RUN_DB="${FLASHMM_RUN_DB:-flashmm}"
[[ $RUN_DB =~ ^[a-z][a-z0-9_]{0,50}$ ]] || { echo "run: FLASHMM_RUN_DB=$RUN_DB: expected [a-z][a-z0-9_]*" >&2; exit 2; }
.venv/bin/python scripts/pg_databases.py "$PG_SERVER" "$RUN_DB" "${RUN_DB}_dagster"
export FLASHMM_DATABASE__URL="${FLASHMM_DATABASE__URL:-$PG_SERVER/$RUN_DB}"
export DAGSTER_PG_URL="${DAGSTER_PG_URL:-postgresql://${PG_SERVER#*://}/${RUN_DB}_dagster}"
export FLASHMM_REDIS__URL="${FLASHMM_REDIS__URL:-redis://127.0.0.1:${FLASHMM_REDIS_PORT:-6379}/${FLASHMM_RUN_REDIS_DB:-0}}"
export FLASHMM_TELEMETRY__INFLUX_URL="${FLASHMM_TELEMETRY__INFLUX_URL:-http://127.0.0.1:$FLASHMM_VM_PORT}"
[[ -f "$DAGSTER_HOME/dagster.yaml" ]] || cp deploy/dagster-postgres.yaml "$DAGSTER_HOME/dagster.yaml"
# Prometheus: the shipped config and alert rules, scraping this engine's control port every 5 s
mkdir -p "$FLASHMM_HOME/prometheus"
cp deploy/prometheus/alerts.yml "$FLASHMM_HOME/prometheus/alerts.yml"
sed -e "s#127.0.0.1:8787#127.0.0.1:${FLASHMM_CONTROL__PORT:-8787}#" -e 's#scrape_interval: 15s#scrape_interval: 5s#' \
  deploy/prometheus/prometheus.yml >"$FLASHMM_HOME/prometheus/prometheus.yml"
CONF="$ROOT/deploy/supervisord-full.conf"
