"""The live connector end to end against the replay server on 127.0.0.1: clean, faults, stale, failover.

Faults are decided by message count and seeded draws over the message stream, and the replays run at
speed 0 (the server waits for the client, and pauses while none is connected), so what each connection
receives does not depend on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import orjson
import pytest

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.types import BookDelta, BookSnapshot, MarketEvent, TopOfBook, Trade
from flashmm_engine.venues.binance.events import MarketEventSink
from flashmm_engine.venues.binance.faults import FaultPlan
from flashmm_engine.venues.binance.feed import BinanceFeed, FeedConfig
from flashmm_engine.venues.binance.markets import BinanceMarket, binance_market_spec
from flashmm_engine.venues.binance.messages import DepthSnapshot, MessageParser
from flashmm_engine.venues.binance.processor import FeedProcessor, FeedSink
from flashmm_engine.venues.binance.replay_server import ReplayLine, ReplayServer, load_replay_lines

DRAIN_S = 1.0
DROPPED_WITH_SEED_11 = 155
"""The seeded draws drop the same messages on every run: a changed count means timing leaked in."""
RUN_TIMEOUT_S = 25.0


def _streamed(lines: list[ReplayLine]) -> int:
    return sum(1 for line in lines if line.stream is not None)


def _slice(fixtures_dir: Path, market: str) -> list[ReplayLine]:
    return load_replay_lines(fixtures_dir / "binance" / f"{market}_ethusdt_slice.raw.gz")


class FeedRun(NamedTuple):
    feed: BinanceFeed
    summary: dict[str, Any]
    final_bids: dict[int, int]  # the connector's book when the replay had ended, before shutdown
    final_asks: dict[int, int]


async def run_feed(
    server: ReplayServer,
    ws_urls: tuple[str, ...] = (),
    rest_urls: tuple[str, ...] = (),
    stale_after_s: float = 5.0,
    sink: FeedSink | None = None,
) -> FeedRun:
    """Run the connector against a started server until the replay ends, then stop both."""
    config = FeedConfig(
        market=server.market,
        ws_urls=ws_urls or (server.ws_url,),
        rest_urls=rest_urls or (server.base_url,),
        stale_after_s=stale_after_s,
        reconnect_max_s=0.5,
    )
    feed = BinanceFeed(config, sink=sink)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await server.finished.wait()
        await asyncio.sleep(DRAIN_S)
        final_bids, final_asks = dict(feed.processor.book.bids), dict(feed.processor.book.asks)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)
        await server.stop()
    assert not feed._tasks.failures
    return FeedRun(feed, feed.summary(), final_bids, final_asks)


@pytest.mark.parametrize("market", ["spot", "usdm"])
async def test_clean_replay_rebuilds_exact_book(fixtures_dir: Path, market: BinanceMarket) -> None:
    lines = _slice(fixtures_dir, market)
    server = ReplayServer(lines, market, speed=0.0)
    await server.start()
    events: list[MarketEvent] = []
    run = await run_feed(server, sink=MarketEventSink(f"binance-{market}:ETHUSDT", events.append))
    summary = run.summary
    streamed = sum(1 for line in lines if line.stream is not None)
    assert summary["messages"] == streamed + summary["snapshots"]
    assert summary["malformed"] == 0 and summary["gaps"] == 0
    assert summary["book_ticker_checked"] >= 20
    assert summary["book_ticker_mismatched"] == 0
    assert summary["connects"] == 1 and summary["disconnects"] == 0
    # a consumer of the emitted events holds exactly the connector's book
    consumer = OrderBook()
    for event in events:
        if isinstance(event, BookSnapshot):
            consumer.load(event.bids, event.asks)
        elif isinstance(event, BookDelta):
            consumer.set_level(int(event.side), event.price, event.size)
    assert consumer.bids == run.final_bids and consumer.asks == run.final_asks
    assert sum(isinstance(e, Trade) for e in events) == sum(1 for x in lines if x.stream == "ethusdt@trade")
    assert sum(isinstance(e, TopOfBook) for e in events) > 0


@pytest.mark.slow
async def test_faults_resync_after_every_gap_and_checks_still_match(fixtures_dir: Path) -> None:
    # every connection is closed after exactly 1500 messages, and the seeded 2% drops are drawn over each
    # connection's message stream: the same messages are dropped on every run, on any machine
    lines = _slice(fixtures_dir, "spot")
    faults = FaultPlan(disconnect_after_messages=1500, drop=0.02, seed=11)
    server = ReplayServer(lines, "spot", speed=0.0, faults=faults)
    await server.start()
    summary = (await run_feed(server)).summary
    injected = server.fault_counts
    assert injected.disconnects == _streamed(lines) // 1500 == 5
    assert injected.dropped == DROPPED_WITH_SEED_11
    assert summary["disconnects"] >= injected.disconnects
    assert summary["gaps"] >= 1  # dropped diffs were noticed by the chain check
    # every break (gap or reconnect) was followed by a fresh snapshot, and every check after it matched
    assert summary["snapshots"] >= summary["resyncs"]
    assert summary["book_ticker_checked_after_resync"] >= 5
    assert summary["book_ticker_mismatched"] == 0
    assert summary["book_ticker_matched_after_resync"] == summary["book_ticker_checked_after_resync"]


async def test_duplicates_and_reorders_never_corrupt_the_book(fixtures_dir: Path) -> None:
    lines = _slice(fixtures_dir, "usdm")
    faults = FaultPlan(duplicate=0.03, reorder=0.03, seed=5)
    server = ReplayServer(lines, "usdm", speed=0.0, faults=faults)
    await server.start()
    summary = (await run_feed(server)).summary
    assert server.fault_counts.duplicated > 0 and server.fault_counts.reordered > 0
    assert summary["stale_diffs"] > 0  # duplicates and late diffs were ignored, not re-applied
    assert summary["book_ticker_checked"] >= 10
    assert summary["book_ticker_mismatched"] == 0


async def test_stale_feed_triggers_reconnect_and_resync(fixtures_dir: Path) -> None:
    lines = _slice(fixtures_dir, "usdm")[:2500]
    silence_ns = 8_000_000_000  # an 8 s hole in the capture: 1 s of silence at speed 8
    shifted = lines[:1500] + [ReplayLine(x.ts_local + silence_ns, x.stream, x.raw) for x in lines[1500:]]
    server = ReplayServer(shifted, "usdm", speed=8.0)
    await server.start()
    summary = (await run_feed(server, stale_after_s=0.4)).summary
    assert summary["stale"] >= 1
    assert summary["connects"] >= 2 and summary["resyncs"] >= 1
    assert summary["book_ticker_checked_after_resync"] >= 1  # the book came back after the silence
    assert summary["book_ticker_mismatched"] == 0


async def test_failover_to_next_url(fixtures_dir: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening once the probe closes
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    server = ReplayServer(_slice(fixtures_dir, "usdm")[:2000], "usdm", speed=0.0)
    await server.start()
    run = await run_feed(
        server, ws_urls=(f"ws://{dead}", server.ws_url), rest_urls=(f"http://{dead}", server.base_url)
    )
    summary = run.summary
    assert summary["connect_failures"] >= 1 and summary["failovers"] >= 1
    assert summary["connects"] >= 1
    assert summary["book_ticker_checked"] >= 1 and summary["book_ticker_mismatched"] == 0


async def test_rest_snapshot_is_the_book_at_the_stream_position(fixtures_dir: Path) -> None:
    lines = _slice(fixtures_dir, "usdm")[:3000]
    server = ReplayServer(lines, "usdm", speed=0.0, wait_for_client=False)
    await server.start()
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await server.finished.wait()  # the position no longer moves: the snapshot must be the final book
        async with aiohttp.ClientSession() as session:
            url = f"{server.base_url}/fapi/v1/depth"
            async with session.get(url, params={"symbol": "ETHUSDT", "limit": "1000"}) as resp:
                assert resp.status == 200
                body = await resp.read()
            async with session.get(url, params={"symbol": "BTCUSDT"}) as resp:
                assert resp.status == 400
            async with session.get(f"{server.base_url}/api/v3/depth", params={"symbol": "ETHUSDT"}) as resp:
                assert resp.status == 404  # a futures replay has no spot endpoint
    finally:
        await server.stop()
    last_diff_id = max(orjson.loads(x.raw)["data"]["u"] for x in lines if x.stream == "ethusdt@depth@0ms")
    snapshot = MessageParser(binance_market_spec("usdm"), "ETHUSDT").parse(0, body)
    assert isinstance(snapshot, DepthSnapshot)
    assert snapshot.last_update_id == last_diff_id
    reference = OrderBook()  # the capture replayed offline through the same pipeline
    offline = FeedProcessor(
        "usdm", binance_market_spec("usdm"), "ETHUSDT", MarketEventSink("m", _drop), book=reference
    )
    for line in lines:
        offline.on_message(line.ts_local, line.raw)
    assert snapshot.bids == reference.depth(1, 1000) and snapshot.asks == reference.depth(-1, 1000)


def _drop(_: MarketEvent) -> None:
    return None


def test_capture_lines_keep_stream_names(fixtures_dir: Path) -> None:
    lines = _slice(fixtures_dir, "spot")
    raw = gzip.decompress((fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz").read_bytes()).splitlines()
    assert len(lines) == len(raw)
    assert {x.stream for x in lines} == {None, "ethusdt@bookTicker", "ethusdt@depth@100ms", "ethusdt@trade"}
