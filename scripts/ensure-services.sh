#!/usr/bin/env bash
# Make sure the integration tests have a real PostgreSQL (127.0.0.1:5432, db `test`) and Redis (:6379).
# Use running servers; otherwise start throwaway ones from local binaries; otherwise say what to install.
set -euo pipefail
RUNDIR="${TMPDIR:-/tmp}/flashmm-services"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_postgres() {
  if listening 5432; then echo "postgres: using server on 127.0.0.1:5432"; return; fi
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z "$bindir" && -x "$(command -v initdb || true)" ]]; then bindir=$(dirname "$(command -v initdb)"); fi
  if [[ -z "$bindir" ]]; then
    echo "postgres: nothing listens on 127.0.0.1:5432 and no PostgreSQL binaries were found." >&2
    echo "Install them (Debian: apt-get install postgresql) or start a server with trust auth and db 'test'." >&2
    exit 1
  fi
  mkdir -p "$RUNDIR"; local data="$RUNDIR/pgdata"
  local as=(); [[ $(id -u) == 0 ]] && { chown -R postgres "$RUNDIR"; as=(runuser -u postgres --); }
  [[ -d "$data" ]] || "${as[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
  "${as[@]}" "$bindir/pg_ctl" -D "$data" -o "-h 127.0.0.1 -p 5432 -k $RUNDIR" -l "$RUNDIR/pg.log" -w start >/dev/null
  "${as[@]}" "$bindir/createdb" -h 127.0.0.1 -U postgres test 2>/dev/null || true
  echo "postgres: started a throwaway server in $data"
}

ensure_redis() {
  if listening 6379; then echo "redis: using server on 127.0.0.1:6379"; return; fi
  if ! command -v redis-server >/dev/null; then
    echo "redis: nothing listens on 127.0.0.1:6379 and redis-server is not installed." >&2
    echo "Install it (Debian: apt-get install redis-server)." >&2
    exit 1
  fi
  mkdir -p "$RUNDIR"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$RUNDIR" --logfile "$RUNDIR/redis.log"
  for _ in $(seq 50); do listening 6379 && break; sleep 0.1; done
  echo "redis: started a throwaway server"
}

ensure_postgres
ensure_redis
