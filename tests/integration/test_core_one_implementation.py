"""One trading core: the very objects the backtester runs (quoter, risk gate, order manager, built by
backtest/build.py) also trade against the `flashmm venue sim` process, and on the same market their
target quotes are identical cycle for cycle.

The venue replays a recorded capture (its published book does not depend on our orders, and every message
carries the venue time its book is as of). The live side cycles on the venue's messages, at most every
200 ms, and sends its batches to the venue; the backtester then replays the same capture through the
matching engine with cycles at the same instants, quoting on the replayed book (`book_feed`: the book a
venue publishes, not the capture's separate best-bid/offer stream, which the venue does not replay)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashmm_engine.backtest.build import BacktestOptions, build_core
from flashmm_engine.backtest.run import backtest_tables
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import NS_PER_MS, BookTop, FeedView, TargetQuotes, TopOfBook
from flashmm_engine.venues.captures import load_capture
from flashmm_engine.venues.sim.client import SimVenueClient
from tests.integration.sim_process import sim_venue_process

MARKET = "binance-usdm:ETHUSDT"
KEY = "one-core-key"
CYCLES = 40
OPTS = BacktestOptions(strategy="mm", base="glft", min_spread_ticks=400, max_position=10, book_feed=True)
"""A 4-dollar spread on ETH: no fill in the compared span, so both sides stay flat."""


@pytest.fixture
def capture(fixtures_dir: Path) -> Path:
    return fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"


@pytest.fixture
def venue_url(tmp_path: Path, capture: Path) -> Iterator[str]:
    env = {"FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY}), "FLASHMM_SIM__REPLAY_SPEED": "4"}
    with sim_venue_process(["--port", "0", "--capture", str(capture)], env, tmp_path, (KEY,)) as started:
        assert started["market"] == MARKET
        yield started["url"]


async def live_side(url: str) -> tuple[list[tuple[int, TargetQuotes]], int]:
    client = SimVenueClient(url, SecretStr(KEY))
    await client.connect()
    targets: list[tuple[int, TargetQuotes]] = []
    clock = ManualClock(0)
    core = build_core(client.specs[MARKET], OPTS, clock, lambda t, q: targets.append((t, q)))
    sent = 0

    async def answers() -> None:
        async for event in client.events():
            core.on_venue_event(event)

    consumer = asyncio.create_task(answers())
    try:
        next_cycle = 0
        async with asyncio.timeout(30):
            async for event in client.market_data():
                if not isinstance(event, TopOfBook) or event.ts_local + 1 < next_cycle:
                    continue
                now = event.ts_local + 1  # just after the venue time the published book is as of
                clock.advance_to(now)
                top = BookTop(event.bid_price, event.bid_size, event.ask_price, event.ask_size)
                batch = core.cycle(FeedView(MARKET, now, top, book_ts_ns=event.ts_local), now)
                await client.batch(batch.cancels, batch.places)
                sent += len(batch.places)
                next_cycle = now + OPTS.decision_interval_ms * NS_PER_MS
                if len(targets) == CYCLES:
                    break
        assert core.position == 0 and core.metrics.fills == 0
    finally:
        consumer.cancel()
        await client.close()
    return targets, sent


async def test_backtester_and_sim_venue_quote_identically(venue_url: str, capture: Path) -> None:
    live, sent = await live_side(venue_url)
    assert len(live) == CYCLES and sent > 0
    assert all(len(t.quotes) == 2 for _, t in live)
    replayed: list[tuple[int, TargetQuotes]] = []
    result = backtest_tables(
        load_capture(capture, "usdm"),
        OPTS,
        schedule=[t for t, _ in live],
        on_targets=lambda t, q: replayed.append((t, q)),
    )
    assert result["fills"] == 0 and result["orders"] > 0
    assert replayed[:CYCLES] == live
    quoted = {q.price for _, t in live for q in t.quotes}
    assert len(quoted) > 4  # the quotes did move with the market: the comparison is not of constants
