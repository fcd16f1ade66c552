"""`make start-full`, end to end on the real services: the same bootstrap as the embedded run (sim venue,
engine, Dagster; the pipeline's first model promoted and served), with the ledger, registry and Dagster's
storage on PostgreSQL (a fresh database), Redis for hot state and the model stream, victoria-metrics taking
the engine's InfluxDB points and Prometheus scraping the engine. Besides the embedded run's checks, a point is
read back through victoria-metrics' query API and an engine metric through Prometheus's HTTP API; `make
stop-full` leaves no process behind, and the databases are dropped."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from tests.e2e.make_run import MAKE_TIMEOUT_S, TIMEOUT_S, Run, bootstrap, started_and_stopped, wait
from tests.e2e.supervised import free_port

PG_SERVER = os.environ.get("FLASHMM_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("FLASHMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/4")
HTTP_TIMEOUT_S = 30.0

pytestmark = [
    pytest.mark.timeout(TIMEOUT_S + 3 * MAKE_TIMEOUT_S),
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("victoria-metrics") is None,
        reason="needs Debian's prometheus and victoria-metrics (scripts/ensure-tools.sh)",
    ),
]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
        return json.loads(response.read())


def _vm_series(port: int) -> list[dict[str, Any]]:
    """Every flashmm_market series victoria-metrics holds now (its query API, instant vector)."""
    query = urllib.parse.urlencode({"query": '{__name__=~"flashmm_market_.*"}'})
    body = _get(f"http://127.0.0.1:{port}/api/v1/query?{query}")
    assert body["status"] == "success", body
    found: list[dict[str, Any]] = body["data"]["result"]
    return found


def _prometheus(port: int, expr: str) -> list[dict[str, Any]]:
    body = _get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert body["status"] == "success", body
    found: list[dict[str, Any]] = body["data"]["result"]
    return found


def test_make_start_full_bootstraps_on_postgres_redis_influx_and_prometheus(tmp_path: Path) -> None:
    db = f"flashmm_e2e_{secrets.token_hex(4)}"
    redis_url = urllib.parse.urlsplit(REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    vm_port, prometheus_port = free_port(), free_port()
    env = {
        "FLASHMM_RUN_PG_SERVER": PG_SERVER,
        "FLASHMM_RUN_DB": db,
        "FLASHMM_RUN_REDIS_DB": redis_url.path.strip("/") or "0",
        "FLASHMM_REDIS_PORT": str(redis_url.port or 6379),
        "FLASHMM_VM_PORT": str(vm_port),
        "FLASHMM_PROMETHEUS_PORT": str(prometheus_port),
    }
    run = Run(tmp_path / "home", f"{PG_SERVER}/{db}", env)

    def full(run: Run) -> None:
        bootstrap(run)
        wait(run, "victoria-metrics holds engine points", lambda: _vm_series(vm_port) != [])
        wait(
            run,
            "Prometheus scraped the engine",
            lambda: _prometheus(prometheus_port, "flashmm_feed_synced") != [],
        )
        series = _vm_series(vm_port)
        markets = {s["metric"].get("market") for s in series}
        assert markets == {"SIM:ETHUSD"}, markets
        names = {s["metric"]["__name__"] for s in series}
        assert "flashmm_market_position_lots" in names or len(names) > 3, names
        synced = _prometheus(prometheus_port, "flashmm_feed_synced")
        assert [float(s["value"][1]) for s in synced] == [1.0], synced
        up = _prometheus(prometheus_port, 'up{job="flashmm-engine"}')
        assert [float(s["value"][1]) for s in up] == [1.0], up
        dagster = sa.create_engine(f"{PG_SERVER}/{db}_dagster")
        with dagster.connect() as conn:
            runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
        dagster.dispose()
        assert runs > 0, "Dagster's runs are in PostgreSQL"
        print(f"victoria-metrics: {len(series)} series {sorted(names)[:5]}...; prometheus synced={synced}")

    try:
        started_and_stopped(run, "start-full", "stop-full", full)
    finally:
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (db, f"{db}_dagster"):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
