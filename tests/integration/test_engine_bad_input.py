"""Bad input at the runtime level, against the real sim venue process: malformed venue messages injected
on the wire (a proxy, every Nth frame) are counted and dropped while trading goes on and the ledger still
equals the venue; a reject storm (an unfunded account) halts the market with its reason and the engine
keeps running with every order accounted for."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.links import SimLink
from flashmm_engine.engine.market_task import MarketRunner
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.types import TradingState
from tests.e2e.supervised import venue_account
from tests.integration.sim_process import sim_venue_process

KEY = "e2e-engine-key"
MARKET = "SIM:ETHUSD"
INJECT_EVERY = 25
MALFORMED = [
    b"{not json",
    b"[1, 2, 3]",
    orjson.dumps({"type": "event", "seq": "x", "event": {}}),
    orjson.dumps({"type": "event", "seq": 10**9, "event": {"kind": "fill", "size": "many"}}),
    orjson.dumps({"type": "depth", "market": MARKET}),
]
WAIT_S = 90.0


@asynccontextmanager
async def injecting_proxy(upstream: str) -> AsyncIterator[tuple[str, list[int]]]:
    """A websocket proxy that adds one malformed frame after every INJECT_EVERY frames to the client."""
    injected = [0]
    cycle = itertools.cycle(MALFORMED)

    async def handle(client: ServerConnection) -> None:
        async with connect(upstream, max_size=10_000_000) as venue:

            async def up() -> None:
                async for message in client:
                    await venue.send(message)

            async def down() -> None:
                count = 0
                async for message in venue:
                    await client.send(message)
                    count += 1
                    if count % INJECT_EVERY == 0:
                        await client.send(next(cycle).decode())
                        injected[0] += 1

            tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            except ConnectionClosed:
                pass
            finally:
                for task in tasks:
                    task.cancel()

    async with serve(handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}", injected


def engine_settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        engine=EngineSettings(
            markets=[MARKET],
            sim_urls={MARKET: url},
            ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
            reconcile_interval_s=1.0,
        ),
        sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
    )


async def wait_until(check: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if check():
                return
            await asyncio.sleep(0.05)


def venue_env() -> dict[str, str]:
    return {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY})}


async def test_malformed_venue_messages_are_counted_and_trading_goes_on(tmp_path: Path) -> None:
    with sim_venue_process([], venue_env(), tmp_path) as started:
        venue_url = started["url"]
        async with injecting_proxy(venue_url) as (proxy_url, injected):
            runtime = EngineRuntime(engine_settings(tmp_path, proxy_url), [MARKET])
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            await asyncio.wait_for(runtime.started.wait(), WAIT_S)
            (runner,) = runtime.runners
            await wait_until(lambda: injected[0] >= 2 * len(MALFORMED) and runner.stats.fills_recorded >= 3)
            link = runner.link
            assert isinstance(link, SimLink)
            bad = link.client.bad_input.total
            state = runner.core.state.state
            stop.set()
            await task
        port = int(venue_url.rsplit(":", 1)[1])
        account = await venue_account(port, MARKET, "e1-")
    held = runtime.journal.ledger.holdings("sim/" + MARKET, MARKET) if runtime.journal else None
    print(
        f"\nmalformed: injected {injected[0]}, counted {bad}, fills {runner.stats.fills_recorded},"
        f" state {state}"
    )
    assert bad >= 2 * len(MALFORMED)
    assert state is TradingState.ACTIVE
    assert account.open_ours == 0
    assert held is not None and held.book.position == account.position and held.cash == account.cash


async def test_a_reject_storm_halts_the_market_with_its_reason_and_the_engine_keeps_running(
    tmp_path: Path,
) -> None:
    env = {**venue_env(), "FLASHMM_SIM__FUND_BASE": "0", "FLASHMM_SIM__FUND_QUOTE": "0"}
    with sim_venue_process([], env, tmp_path) as started:
        runtime = EngineRuntime(engine_settings(tmp_path, started["url"]), [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.started.wait(), WAIT_S)
        (runner,) = runtime.runners
        await wait_until(lambda: runner.core.state.state is TradingState.HALTED)
        halted_at = runner.stats.cycles
        placed_at_halt = runner.core.orders.counts["placed"]
        await wait_until(lambda: runner.stats.cycles >= halted_at + 10)
        placed_after = runner.core.orders.counts["placed"]
        reason = runner.core.state.reason
        stop.set()
        await task
    assert isinstance(runner, MarketRunner) and not task.exception()
    ledger = runtime.journal.ledger if runtime.journal else None
    assert ledger is not None
    halts = [e for e in ledger.events("state_change") if e["detail"]["to"] == "halted"]
    statuses = {
        r[0] for r in ledger.engine.connect().exec_driver_sql("SELECT status FROM ledger_orders").all()
    }
    print(f"\nreject storm: halted ({reason}) after {placed_at_halt} orders; statuses {statuses}")
    assert reason == "reject_storm" and halts[0]["detail"]["reason"] == "reject_storm"
    assert placed_after == placed_at_halt, "a halted market sent new orders"
    assert statuses == {"rejected"}, "every order the venue refused is recorded as rejected"
