"""The control API of a real engine against the real sim venue process: open endpoints, token-guarded
actions that change the market only with the right token, every attempt in the audit table, a
fail-closed halt that resume refuses, /reload through the injectable hook, and `/metrics` read back with
prometheus-client's own parser."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from flashmm_engine.config.control import ControlSettings
from flashmm_engine.control.actions import ControlActions
from flashmm_engine.control.app import ControlApi
from flashmm_engine.control.audit import AuditEntry, entries
from flashmm_engine.control.auth import token_id
from flashmm_engine.engine.reload.types import ModelStatus
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.engine.status import EngineStatus
from flashmm_engine.telemetry.metrics import EngineMetrics
from flashmm_engine.types import TradingState
from tests.integration.sim_process import sim_venue_process
from tests.integration.test_engine_bad_input import (
    MARKET,
    WAIT_S,
    engine_settings,
    venue_env,
    wait_until,
)

TOKEN = "control-test-token-5b1f0c"
WRONG = "control-test-token-wrong"


@asynccontextmanager
async def running_engine(tmp_path: Path) -> AsyncIterator[EngineRuntime]:
    with sim_venue_process([], venue_env(), tmp_path, secrets=(TOKEN,)) as started:
        settings = engine_settings(tmp_path, started["url"]).model_copy(
            update={"control": ControlSettings(port=0, token=SecretStr(TOKEN))}
        )
        runtime = EngineRuntime(settings, [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            await asyncio.wait_for(runtime.started.wait(), WAIT_S)
            yield runtime
        finally:
            stop.set()
            await task


class Api:
    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.base = f"http://127.0.0.1:{port}"

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.base + path) as r:
            text = await r.text()
            return r.status, json.loads(text) if r.content_type == "application/json" else text

    async def post(self, path: str, token: str | None = None, scheme: str = "Bearer") -> tuple[int, Any]:
        headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
        async with self.session.post(self.base + path, headers=headers) as r:
            return r.status, await r.json()


def audit_rows(runtime: EngineRuntime) -> list[AuditEntry]:
    assert runtime.journal is not None
    return entries(runtime.journal.ledger.engine)


async def control_events(runtime: EngineRuntime) -> list[dict[str, Any]]:
    journal = runtime.journal
    assert journal is not None
    await journal.flush()
    return journal.ledger.events("control_action")


async def test_actions_need_the_token_and_every_attempt_is_audited(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as runtime, aiohttp.ClientSession() as session:
        assert runtime.control is not None and runtime.control.port
        api = Api(session, runtime.control.port)
        (runner,) = runtime.runners
        core = runner.core
        status, body = await api.get("/health")
        assert status == 200 and body["alive"] is True
        await wait_until(lambda: core.orders.counts["placed"] >= 2 and len(core.working_orders()) >= 1)
        status, body = await api.get("/ready")
        assert status == 200 and body["ready"] is True, body

        # refused: no header, wrong token, wrong scheme; nothing changes
        transitions = core.risk.transitions
        for path, token, scheme in (
            ("/pause", None, "Bearer"),
            ("/halt", WRONG, "Bearer"),
            ("/flatten", TOKEN, "Basic"),
        ):
            status, body = await api.post(path, token, scheme)
            assert status == 401, (path, body)
        assert core.state.state is TradingState.ACTIVE and core.risk.transitions == transitions
        assert len(audit_rows(runtime)) == 3
        assert await control_events(runtime) == []

        # pause: halted by the operator, every working order cancelled by the following cycles
        status, body = await api.post("/pause", TOKEN)
        assert status == 200 and body["markets"][MARKET]["state"] == "halted", body
        assert core.state.reason == "operator_pause"
        await wait_until(lambda: not core.working_orders())
        status, body = await api.get("/ready")
        assert status == 503 and body["ready"] is False

        status, body = await api.post("/resume", TOKEN)
        assert status == 200 and core.state.state is TradingState.ACTIVE
        await wait_until(lambda: len(core.working_orders()) >= 1)

        status, body = await api.post("/flatten", TOKEN)
        assert status == 200 and core.state.state is TradingState.REDUCING
        assert core.state.reason == "operator_flatten"

        status, body = await api.post("/resume", TOKEN)
        assert status == 200 and core.state.state is TradingState.ACTIVE
        await wait_until(lambda: any(not o.cancel_sent for o in core.working_orders()))
        status, body = await api.post("/cancel-all", TOKEN)
        assert status == 200 and body["markets"][MARKET]["cancels_sent"] >= 1, body

        status, body = await api.post("/halt", TOKEN)
        assert status == 200 and core.state.reason == "operator_halt"
        await wait_until(lambda: not core.working_orders())

        status, body = await api.post(f"/pause?market=NOPE:{MARKET}", TOKEN)
        assert status == 404 and body["result"] == "unknown_market"

        # a fail-closed halt is not the operator's to lift
        core.halt("ledger_write_failed")
        status, body = await api.post("/resume", TOKEN)
        assert status == 409 and "fail-closed" in body["markets"][MARKET]["refused"], body
        assert core.state.state is TradingState.HALTED

        status, body = await api.post("/reload", TOKEN)
        assert status == 501 and body["result"] == "not_available"
        calls: list[int] = []

        async def reload_now() -> dict[str, Any]:
            calls.append(1)
            return {"checked": True}

        runtime.reload_hook = reload_now
        status, body = await api.post("/reload", TOKEN)
        assert status == 200 and body["checked"] is True and calls == [1]

        status, snapshot = await api.get("/status")
        assert status == 200
        (market,) = snapshot["markets"]
        assert market["market"] == MARKET and market["state"] == "halted"
        assert market["reason"] == "ledger_write_failed"
        assert market["cycle"]["cycles"] > 0 and market["feed"]["book_messages"] > 0
        assert market["flow"]["quotes"] >= 2 and market["pnl_quote"] is not None
        assert snapshot["model"]["version"] is None and snapshot["ready"] is False
        assert TOKEN not in json.dumps(snapshot)

        status, text = await api.get("/metrics")
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(text)}
        events = await control_events(runtime)
        rows = audit_rows(runtime)

    cycles = families["flashmm_cycle_seconds"]
    assert cycles.type == "histogram"
    count = next(s.value for s in cycles.samples if s.name == "flashmm_cycle_seconds_count")
    assert count > 0
    assert families["flashmm_quotes"].type == "counter"
    quotes = next(s for s in families["flashmm_quotes"].samples if s.name == "flashmm_quotes_total")
    assert quotes.labels == {"market": MARKET} and quotes.value >= 2
    states = {s.labels["state"]: s.value for s in families["flashmm_market_state"].samples}
    assert states == {"active": 0, "reducing": 0, "halted": 1}
    (model,) = families["flashmm_model_info"].samples  # the text format carries an info as a gauge
    assert model.labels == {"name": "", "version": "none"} and model.value == 1

    refused = [(r.action, r.result, r.token_id) for r in rows[:3]]
    assert refused == [
        ("pause", "missing_token", None),
        ("halt", "wrong_token", token_id(WRONG)),
        ("flatten", "missing_token", None),
    ]
    done = [(r.action, r.result) for r in rows[3:] if r.result != "requested"]
    assert done == [
        ("pause", "ok"),
        ("resume", "ok"),
        ("flatten", "ok"),
        ("resume", "ok"),
        ("cancel-all", "ok"),
        ("halt", "ok"),
        ("pause", "unknown_market"),
        ("resume", "refused"),
        ("reload", "not_available"),
        ("reload", "ok"),
    ]
    requested = [r for r in rows[3:] if r.result == "requested"]
    assert len(requested) == len(done), "each authorized action has its row before it ran"
    assert {r.token_id for r in rows[3:]} == {token_id(TOKEN)} and all(r.peer == "127.0.0.1" for r in rows)
    assert not any(TOKEN in json.dumps(r.detail) for r in rows)
    assert [e["detail"]["action"] for e in events] == [
        "pause",
        "resume",
        "flatten",
        "resume",
        "cancel-all",
        "halt",
        "resume",
    ]


async def test_failed_attempts_are_rate_limited_per_peer_and_audited_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_engine(tmp_path) as runtime, aiohttp.ClientSession() as session:
        assert runtime.control is not None and runtime.control.port
        api = Api(session, runtime.control.port)
        (runner,) = runtime.runners
        codes = [(await api.post("/halt", f"{WRONG}-{i}"))[0] for i in range(5)]
        limited = [(await api.post("/halt", TOKEN))[0] for _ in range(3)]
        state = runner.core.state.state
        rows = audit_rows(runtime)
    assert codes == [401] * 5
    assert limited == [429] * 3, "the right token is not even checked while the peer is limited"
    assert state is TradingState.ACTIVE
    assert [r.result for r in rows] == ["wrong_token"] * 5 + ["rate_limited"]
    assert [r.token_id for r in rows] == [token_id(f"{WRONG}-{i}") for i in range(5)] + [token_id(TOKEN)]
    refusals = [r for r in caplog.records if "refused from" in r.getMessage()]
    assert len(refusals) == 6, "each failure and the first limited attempt are logged"
    assert WRONG not in caplog.text and TOKEN not in caplog.text, "the offered secret never reaches a log"


async def test_no_action_runs_when_its_audit_row_cannot_be_written() -> None:
    asked: list[int] = []

    def runners() -> list[Any]:
        asked.append(1)
        return []

    async def audit(_entry: AuditEntry) -> None:
        raise OSError("disk full")

    def snapshot(_latency: bool = True) -> EngineStatus:
        return EngineStatus(
            "i1", "sim", False, 0.0, ModelStatus(None, None, None, None, None, None, 0, 0), None
        )

    api = ControlApi(
        ControlSettings(port=0, token=SecretStr(TOKEN)),
        "i1",
        snapshot,
        EngineMetrics(lambda: snapshot(False)),
        ControlActions(runners, lambda: None),
        audit,
    )
    port = await api.start()
    try:
        async with aiohttp.ClientSession() as session:
            client = Api(session, port)
            paused = await client.post("/pause", TOKEN)
            refused = await client.post("/pause", WRONG)
            ready = await client.get("/ready")
    finally:
        await api.stop()
    assert paused == (503, {"action": "pause", "result": "audit_unavailable"})
    assert asked == [], "the action never ran"
    assert refused[0] == 401
    assert ready[0] == 503 and ready[1]["ready"] is False
