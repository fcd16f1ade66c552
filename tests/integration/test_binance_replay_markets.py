"""The replay server and the live connector on every market, COIN-M included, for symbols other than ETH."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import orjson
import pytest

from flashmm_engine.venues.binance.feed import BinanceFeed, FeedConfig, open_live_feed
from flashmm_engine.venues.binance.markets import DEPTH_PATHS, MARKETS, as_market
from flashmm_engine.venues.binance.replay_server import ReplayServer, load_replay_lines
from flashmm_engine.venues.captures import open_capture
from tests.unit.binance.test_capture_errors import exchange_info

RUN_TIMEOUT_S = 60.0
CAPTURES = [
    ("spot_btcusdt_slice", "BTCUSDT"),
    ("usdm_btcusdt_slice", "BTCUSDT"),
    ("coinm_btcusd_perp_slice", "BTCUSD_PERP"),
    ("coinm_ethusd_perp_slice", "ETHUSD_PERP"),
]
CONTRACT_SIZES = {"BTCUSD_PERP": 100, "ETHUSD_PERP": 10}
"""Binance's COIN-M contract sizes in USD; a capture does not show them, exchangeInfo does."""


@pytest.mark.parametrize(("name", "symbol"), CAPTURES, ids=[c[0] for c in CAPTURES])
async def test_connector_rebuilds_the_book_of_any_market(
    fixtures_dir: Path, tmp_path: Path, name: str, symbol: str
) -> None:
    path = fixtures_dir / "binance" / f"{name}.raw.gz"
    _, info = open_capture(path)
    market = as_market(info.market)
    lines = load_replay_lines(path)
    server = ReplayServer(lines, market, speed=0.0)  # symbol and spec from the lines
    assert (server.symbol, server.instrument.tick_size) == (symbol, info.spec.tick_size)
    if market == "coinm":  # serve the contract size, which only an exchangeInfo document knows
        document = tmp_path / "exchange_info.json"
        steps = (format(info.spec.tick_size, "f"), "1")
        base = symbol[:3]
        fields = {"base": base, "quote": "USD", "margin": base, "contract": CONTRACT_SIZES[symbol]}
        document.write_bytes(orjson.dumps(exchange_info(symbol, *steps, **fields)))
        _, info = open_capture(path, exchange_info=document)
        server = ReplayServer(lines, market, speed=0.0, spec=info.spec)
    await server.start()
    stop = asyncio.Event()
    try:
        config = FeedConfig(market, symbol, ws_urls=(server.ws_url,), rest_urls=(server.base_url,))
        feed = await open_live_feed(config)  # the spec from the server's exchangeInfo path of this market
        live = feed.config.spec
        assert live is not None and (live.lot_size, live.contract_size) == (
            info.spec.lot_size,
            info.spec.contract_size,
        )
        task = asyncio.create_task(feed.run(stop))
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await server.finished.wait()
            streamed = sum(1 for line in lines if line.stream is not None)
            # the feed owns no event for "consumed all": poll its counter (bounded by the timeout above)
            while feed.processor.messages - feed.counts.snapshots < streamed:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as session:
            for other in MARKETS:
                url = f"{server.base_url}{DEPTH_PATHS[other]}"
                async with session.get(url, params={"symbol": symbol}) as resp:
                    assert resp.status == (200 if other == market else 404), other
                    if other == market:
                        body = orjson.loads(await resp.read())
    finally:
        stop.set()
        await server.stop()
    await asyncio.wait_for(task, timeout=5.0)
    summary = feed.summary()
    assert summary["malformed"] == 0 and summary["book_ticker_mismatched"] == 0
    assert summary["book_ticker_checked"] >= 10 and summary["snapshots"] >= 1
    if market == "coinm":
        assert (body["symbol"], body["pair"]) == (symbol, symbol.partition("_")[0])
    assert ("E" in body) == (market != "spot")


def test_feed_requires_a_spec() -> None:
    with pytest.raises(ValueError, match="open_live_feed"):
        BinanceFeed(
            FeedConfig("coinm", "BTCUSD_PERP", ws_urls=("ws://127.0.0.1:1",), rest_urls=("http://x",))
        )
