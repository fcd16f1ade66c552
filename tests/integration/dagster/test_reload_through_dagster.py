"""Reload through Dagster, end to end, every part a real process on loopback: the sim venue, the engine
(`flashmm engine run`, control API with a bearer token), dagster-webserver and dagster-daemon (PostgreSQL
storage, the queued run coordinator), the local Redis.

`production_model` is materialized through the webserver's GraphQL launch mutation (the UI's Materialize
button); the daemon dequeues and runs it; its `publish_production_model` sensor announces the promotion on
the Redis stream; the engine swaps the model in. The engine's registry poll is set to an hour, so only the
announcement can make it serve the new version within the 30 s the issue allows. The latency from the
materialization's event to the engine's swap is printed.

The engine trades the sim venue's synthetic market; the live_trading_every_minute schedule's job then
observes it through `/status`.

The candidate that gets promoted is staged as the earlier lifecycle stages leave it (a real TorchScript
artifact registered as a candidate, `candidate.json`, a passed `validation.json`): training and the gate
are tested on the captures in test_lifecycle_gate.py; here only promotion and reload are at stake."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import pytest
import redis
import requests

from flashmm_dagster.definitions import defs
from flashmm_dagster.jobs import live_job
from flashmm_dagster.resources import FlashmmResource
from tests import reload_models
from tests.e2e.supervised import free_port
from tests.integration.dagster.dagster_processes import (
    BIN,
    GraphQL,
    Process,
    daemon_argv,
    dagster_database,
    dagster_home,
    process,
    wait_for,
    webserver_argv,
)
from tests.integration.reload_support import redis_server
from tests.integration.sim_process import sim_venue_process

NAME = "flashmm"
MARKET = "SIM:ETHUSD"
SIM_KEY = "dagster-reload-sim-key"
CONTROL_TOKEN = "dagster-reload-control-token"
RELOAD_BUDGET_S = 30.0
"""The issue's bound: the engine serves the new version within 30 s of the materialization."""
START_S = 600.0
RUN_S = 900.0
TEST_TIMEOUT_S = 2400
STREAM = "flashmm:models:dagster-e2e"


def status(port: int) -> dict[str, Any] | None:
    try:
        response = requests.get(
            f"http://127.0.0.1:{port}/status",
            headers={"Authorization": f"Bearer {CONTROL_TOKEN}"},
            timeout=10,
        )
    except requests.ConnectionError:
        return None
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body


def served(port: int, version: str) -> dict[str, Any] | None:
    """The engine's /status once it serves `version` on every market."""
    body = status(port)
    if body is None or body["model"]["version"] != version:
        return None
    return body


def finished(run_status: str) -> str | None:
    return run_status if run_status in ("SUCCESS", "FAILURE", "CANCELED") else None


@contextmanager
def engine_process(tmp: Path, env: dict[str, str], venue_url: str) -> Iterator[tuple[Process, int]]:
    port = free_port()
    engine_env = {
        **env,
        "FLASHMM_ENGINE__MARKETS": json.dumps([MARKET]),
        "FLASHMM_ENGINE__SIM_URLS": json.dumps({MARKET: venue_url}),
        "FLASHMM_ENGINE__LEDGER_URL": f"sqlite:///{tmp / 'ledger.db'}",
        "FLASHMM_ENGINE__MODEL_NAME": NAME,
        "FLASHMM_ENGINE__RECONCILE_INTERVAL_S": "2",
        "FLASHMM_CONTROL__PORT": str(port),
        "FLASHMM_CONTROL__TOKEN": CONTROL_TOKEN,
        "FLASHMM_RELOAD__POLL_INTERVAL_S": "3600",
    }
    with process("engine", [str(BIN / "flashmm"), "engine", "run"], engine_env, tmp) as proc:
        yield proc, port


def stage_candidate(registry_url: str, pipeline_root: Path, models: Path) -> None:
    """v1 in production (the engine starts on it); v2 a registered candidate whose validation passed."""
    reload_models.register(
        registry_url, NAME, "v1", reload_models.export_good(models, NAME, "v1", 1), "production"
    )
    v2 = reload_models.export_good(models, NAME, "v2", 2)
    reload_models.register(registry_url, NAME, "v2", v2)
    pipeline_root.mkdir(parents=True)
    (pipeline_root / "candidate.json").write_bytes(
        orjson.dumps({"name": NAME, "version": "v2", "model_dir": str(v2)})
    )
    (pipeline_root / "validation").mkdir()
    validation = {"candidate": {"version": "v2", "path": str(v2)}, "passed": True, "gate": []}
    (pipeline_root / "validation" / "validation.json").write_bytes(orjson.dumps(validation))


def observed(control_port: int) -> dict[str, Any]:
    """The live_trading_every_minute schedule's job against the engine: live_trading's metadata."""
    assert defs.resolve_schedule_def("live_trading_every_minute").job_name == live_job.name
    resource = FlashmmResource(control_url=f"http://127.0.0.1:{control_port}")
    result = defs.resolve_job_def(live_job.name).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), resources={"flashmm": resource}
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
@pytest.mark.covers(
    "asset:production_model", "sensor:publish_production_model", "asset:live_trading",
    "schedule:live_trading_every_minute", data="synthetic",
)  # fmt: skip
def test_materializing_production_model_reloads_the_running_engine(tmp_path: Path) -> None:
    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    pipeline_root = tmp_path / "pipeline"
    raw = tmp_path / "raw"
    raw.mkdir()
    stage_candidate(registry_url, pipeline_root, tmp_path / "models")
    env = {
        **os.environ,
        "FLASHMM_DATABASE__URL": registry_url,
        "FLASHMM_RELOAD__STREAM": STREAM,
        "FLASHMM_PIPELINE__ROOT": str(pipeline_root),
        "FLASHMM_PIPELINE__DROP_DIRS": "[]",
        "FLASHMM_RECORDER__DIRECTORY": str(raw),
        "FLASHMM_SIM__API_KEYS": json.dumps({"mm": SIM_KEY}),
    }
    web_port = free_port()
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(tmp_path)).url
        env["FLASHMM_REDIS__URL"] = redis_url
        pg_url = stack.enter_context(dagster_database())
        home = dagster_home(tmp_path)
        dagster_env = {**env, "DAGSTER_HOME": str(home), "DAGSTER_PG_URL": pg_url}
        venue = stack.enter_context(sim_venue_process([], {**env, "FLASHMM_SIM__PORT": "0"}, tmp_path))
        engine, control_port = stack.enter_context(engine_process(tmp_path, env, venue["url"]))
        webserver = stack.enter_context(process("webserver", webserver_argv(web_port), dagster_env, tmp_path))
        daemon = stack.enter_context(process("daemon", daemon_argv(), dagster_env, tmp_path))
        gql = GraphQL(web_port)
        wait_for("the webserver's code location", gql.ready, START_S, webserver)
        wait_for("the engine serving v1", lambda: served(control_port, "v1"), START_S, engine)

        run_id = gql.launch_assets(["production_model"])
        wait_for(
            "the run to finish",
            lambda: finished(gql.run_status(run_id)),
            RUN_S,
            webserver,
            daemon,
        )
        assert gql.run_status(run_id) == "SUCCESS", daemon.log()
        (event, *_) = gql.materializations("production_model")
        assert event["runId"] == run_id
        materialized_at = int(event["timestamp"]) / 1000
        meta = {e["label"]: e.get("text") for e in event["metadataEntries"]}
        assert meta["version"] == "v2" and meta["retired"] == "v1"

        after = wait_for(
            "the engine serving v2", lambda: served(control_port, "v2"), RELOAD_BUDGET_S * 4, engine, daemon
        )
        swapped_at = after["model"]["loaded_at_ns"] / 1e9
        latency = swapped_at - materialized_at
        print(f"\nreload through Dagster: production_model materialized -> engine on v2: {latency:.2f} s")
        assert after["model"]["source"] == "stream", after["model"]
        assert after["model"]["sha256"] == reload_models.manifest_sha(tmp_path / "models" / NAME / "v2")
        assert 0 < latency <= RELOAD_BUDGET_S
        entries = redis.Redis.from_url(redis_url).xrange(STREAM)
        assert [e[1][b"version"] for e in entries] == [b"v2"]
        live = observed(control_port)
        assert live["state"] == "running" and live["model_version"] == "v2"
        assert engine.alive() and webserver.alive() and daemon.alive()
