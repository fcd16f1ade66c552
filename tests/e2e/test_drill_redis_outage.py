"""Drill: Redis (the model stream) stops for 30 s in the middle of a run (issue 14, process drills).

A throwaway redis-server carries the engine's model stream while it quotes against the real sim venue
process with a production model. Redis is stopped until the engine reports the stream degraded, has kept
trading, and 30 s have passed; then it is started again (empty). Checked: no task died, the engine kept
sending batches through the outage, the stream reconnected, every venue fill is in the ledger exactly
once, the ledger position and cash equal the venue's, and no order of ours is left open.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import orjson
from pydantic import SecretStr

from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.engine.reload.types import StreamStatus
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.types import TradingState
from tests import reload_models
from tests.e2e.supervised import KEY, venue_account
from tests.integration.reload_support import (
    MARKET,
    NAME,
    START_S,
    Env,
    engine_settings,
    redis_server,
    runner_of,
    wait_until,
)
from tests.integration.sim_process import sim_venue_process

OUTAGE_S = 30.0
WAIT_S = 120.0
BATCHES_DURING = 5
"""Batches the engine must send while Redis is down (trading does not depend on Redis)."""


def stream(runtime: EngineRuntime) -> StreamStatus:
    status = runtime.model_status().stream
    assert status is not None
    return status


async def test_redis_outage_degrades_keeps_trading_and_recovers(tmp_path: Path) -> None:
    env = Env(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", None)
    model_dir = reload_models.export_good(tmp_path / "models", NAME, "v1", 1)
    reload_models.register(env.registry_url, NAME, "v1", model_dir, "production")
    venue_env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": orjson.dumps({"mm": KEY}).decode()}
    reload = ReloadSettings(poll_interval_s=600, stream_block_ms=200, reconnect_max_s=1.0)
    with redis_server(tmp_path) as server, sim_venue_process([], venue_env, tmp_path) as started:
        env.redis_url = server.url
        settings = engine_settings(env, started["url"], reload)
        settings.sim.api_keys = {"mm": SecretStr(KEY)}  # the key venue_account reads the account with
        runtime = EngineRuntime(settings, [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.started.wait(), START_S)
        runner = runner_of(runtime)
        await wait_until("stream consumer", lambda: stream(runtime).connected_once, WAIT_S)

        await asyncio.to_thread(server.stop)
        stopped_at = time.monotonic()
        await wait_until("degraded", lambda: stream(runtime).degraded, WAIT_S)
        batches = runner.stats.batches
        await wait_until(
            "trading through the outage", lambda: runner.stats.batches >= batches + BATCHES_DURING, WAIT_S
        )
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
        outage_s = time.monotonic() - stopped_at
        state_in_outage = runner.core.state.state
        await asyncio.to_thread(server.start)
        recover_s = await wait_until("reconnected", lambda: not stream(runtime).degraded, WAIT_S)
        served = runtime.model_status().version
        errors = stream(runtime).errors
        stop.set()
        await asyncio.wait_for(task, 60)
        port = int(started["url"].rsplit(":", 1)[1])
        account = await venue_account(port, MARKET, "e1-")
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", migrate=False)
    ledger_ids = Counter(ledger.fill_ids(f"sim/{MARKET}"))
    held = ledger.holdings(f"sim/{MARKET}", MARKET)
    ledger.close()
    assert held is not None
    venue_ids = Counter(f.fill_id for f in account.fills if f.market == MARKET)
    missing = sum((venue_ids - ledger_ids).values())
    doubled = sum((ledger_ids - venue_ids).values())
    failures = runtime.tasks.failures + runner.tasks.failures
    print(
        f"\nredis outage drill: faults 1 (down {outage_s:.1f}s), stream errors {errors}, venue fills "
        f"{sum(venue_ids.values())}, fills lost {missing}, fills doubled {doubled}, orphan orders "
        f"{account.open_ours}, worst time to recover {recover_s:.1f}s after the restart, position "
        f"difference {held.book.position - account.position}, task failures {len(failures)}"
    )
    assert not failures, failures
    assert state_in_outage is TradingState.ACTIVE, "a model-stream outage must not stop trading"
    assert served == "v1" and errors >= 1
    assert missing == 0 and doubled == 0
    assert held.book.position == account.position and held.cash == account.cash
    assert account.open_ours == 0
