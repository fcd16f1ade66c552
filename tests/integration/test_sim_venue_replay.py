"""`flashmm venue sim --capture`: a replayed real capture drives the venue, our orders trade against it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashmm_engine.types import Ack, BookSnapshot, Fill, OrderRequest, Side, TimeInForce, TopOfBook
from flashmm_engine.venues.sim.client import SimVenueClient
from tests.integration.sim_process import sim_venue_process

MARKET = "binance-usdm:ETHUSDT"
KEY = "replay-secret-key"


@pytest.fixture
def replay_url(tmp_path: Path, fixtures_dir: Path) -> Iterator[str]:
    env = {"FLASHMM_SIM__API_KEYS": json.dumps({"carol": KEY}), "FLASHMM_SIM__REPLAY_SPEED": "4"}
    capture = fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"
    args = ["--port", "0", "--capture", str(capture)]
    with sim_venue_process(args, env, tmp_path, secrets=(KEY,)) as started:
        assert started["market"] == MARKET
        yield started["url"]


async def test_replayed_market_data_and_a_marketable_order_fills(replay_url: str) -> None:
    client = SimVenueClient(replay_url, SecretStr(KEY))
    await client.connect()
    try:
        kinds: set[str] = set()
        top: TopOfBook | None = None
        async with asyncio.timeout(10):
            async for event in client.market_data():
                kinds.add(type(event).__name__)
                if isinstance(event, TopOfBook):
                    top = event
                    break
        assert top is not None and top.bid_price < top.ask_price
        assert BookSnapshot.__name__ in kinds
        start = (await client.positions())[MARKET]  # funded base holdings, in lots
        order = OrderRequest("c-1", MARKET, Side.BUY, top.ask_price + 50, 1, TimeInForce.IOC)
        await client.place([order])
        events = client.events()
        async with asyncio.timeout(10):
            ack = await anext(events)
            fill = await anext(events)
        assert isinstance(ack, Ack) and isinstance(fill, Fill)
        assert fill.size == 1 and fill.price <= top.ask_price + 50
        assert (await client.positions())[MARKET] == start + 1
    finally:
        await client.close()
