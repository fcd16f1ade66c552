"""Redis hot state against the real sim venue process and a throwaway redis-server: the keys appear with
TTLs, a Redis restart mid-run marks the engine degraded while it keeps trading, the writer reconnects with
backoff and the keys come back, and a stopped engine's keys expire."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import redis
from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import RecorderSettings
from flashmm_engine.config.services import RedisSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.hot_state import hot_key
from flashmm_engine.engine.runtime import EngineRuntime
from tests.integration.sim_process import sim_venue_process
from tests.integration.telemetry_support import RedisServer, wait_until

KEY = "hot-state-test-key"
MARKET = "SIM:ETHUSD"
PARTS = ("top", "position", "quotes", "model", "prediction", "state")
TTL_S = 2.0
WAIT_S = 60.0
CYCLES_WHILE_DOWN = 10


def keys_present(client: redis.Redis) -> bool:
    try:
        return all(client.exists(hot_key("e1", MARKET, part)) for part in PARTS)
    except redis.RedisError:
        return False


async def test_redis_restart_mid_run_degrades_then_recovers_and_keys_come_back(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    client = redis.Redis.from_url(server.url, socket_timeout=1.0)
    env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY})}
    try:
        with sim_venue_process([], env, tmp_path) as started:
            settings = Settings(
                engine=EngineSettings(
                    markets=[MARKET],
                    sim_urls={MARKET: started["url"]},
                    ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
                ),
                sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
                redis=RedisSettings(url=SecretStr(server.url), hot_state_ttl_s=TTL_S),
                recorder=RecorderSettings(enabled=False),
            )
            runtime = EngineRuntime(settings, [MARKET])
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            await asyncio.wait_for(runtime.started.wait(), WAIT_S)
            hot = runtime.telemetry.hot_state
            assert hot is not None
            (runner,) = runtime.runners
            await wait_until(
                lambda: keys_present(client) and runner.core.working_orders() != (), WAIT_S, "hot keys"
            )
            ttl_ms = client.pttl(hot_key("e1", MARKET, "state"))
            state = orjson.loads(client.get(hot_key("e1", MARKET, "state")))  # type: ignore[arg-type]
            top = orjson.loads(client.get(hot_key("e1", MARKET, "top")))  # type: ignore[arg-type]

            server.stop()
            await wait_until(lambda: hot.degraded, WAIT_S, "the degraded flag")
            assert runtime.telemetry.status()["degraded"] is True
            cycles_at_outage = runner.stats.cycles
            await wait_until(
                lambda: runner.stats.cycles >= cycles_at_outage + CYCLES_WHILE_DOWN, WAIT_S, "cycles"
            )
            failures_during = hot.write_failures

            server.start()  # same port, empty: every key must be written again
            await wait_until(lambda: not hot.degraded, WAIT_S, "recovery from the outage")
            await wait_until(lambda: keys_present(client), WAIT_S, "the keys after the restart")
            status = runtime.telemetry.status()
            stop.set()
            await task
        assert not task.exception() and not runtime.tasks.failures and not runtime.telemetry.tasks.failures
        print(
            f"\nhot state: ttl {ttl_ms} ms, {failures_during} failed writes while down, "
            f"{hot.reconnects} reconnects, {hot.writes} writes"
        )
        assert 0 < ttl_ms <= TTL_S * 1000
        assert state["state"] == "active" and state["ready"] is True
        assert top["bid"] < top["ask"]
        assert failures_during >= 1 and hot.reconnects == 1
        assert status["degraded"] is False and status["redis"]["reconnects"] == 1
        # the engine stopped writing: its state expires instead of looking current
        await wait_until(lambda: not client.exists(hot_key("e1", MARKET, "state")), WAIT_S, "expiry")
    finally:
        client.close()
        server.stop()


@asynccontextmanager
async def engine_on(tmp_path: Path, server: RedisServer) -> AsyncIterator[EngineRuntime]:
    env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY})}
    with sim_venue_process([], env, tmp_path) as started:
        settings = Settings(
            engine=EngineSettings(
                markets=[MARKET],
                sim_urls={MARKET: started["url"]},
                ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
            ),
            sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
            redis=RedisSettings(url=SecretStr(server.url), hot_state_ttl_s=TTL_S),
            recorder=RecorderSettings(enabled=False),
        )
        runtime = EngineRuntime(settings, [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.started.wait(), WAIT_S)
        try:
            yield runtime
        finally:
            stop.set()
            await task


async def test_a_hung_redis_times_out_into_degraded_while_the_cycles_go_on(tmp_path: Path) -> None:
    """SIGSTOP: Redis accepts nothing and answers nothing; the writer's timeout, not the cycle, pays."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        async with engine_on(tmp_path, server) as runtime:
            hot = runtime.telemetry.hot_state
            assert hot is not None
            (runner,) = runtime.runners
            await wait_until(lambda: hot.writes >= 3, WAIT_S, "hot-state writes")
            assert server.proc is not None
            server.proc.send_signal(signal.SIGSTOP)
            try:
                await wait_until(lambda: hot.degraded, WAIT_S, "the degraded flag")
                cycles = runner.stats.cycles
                await wait_until(
                    lambda: runner.stats.cycles >= cycles + CYCLES_WHILE_DOWN, WAIT_S, "cycles while hung"
                )
                missed_while_hung = runner.stats.missed_cycles
            finally:
                server.proc.send_signal(signal.SIGCONT)
            await wait_until(lambda: not hot.degraded, WAIT_S, "recovery")
        print(f"\nhung redis: {hot.write_failures} timed-out writes, {missed_while_hung} missed cycles")
        assert hot.write_failures >= 1 and hot.reconnects == 1
        assert hot.last_error is not None and "Timeout" in hot.last_error
    finally:
        server.stop()
