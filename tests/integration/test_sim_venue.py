"""The sim venue as a real subprocess on 127.0.0.1: order entry, fills, reconnect and reconciliation."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect

from flashmm_engine.service.backoff import Backoff
from flashmm_engine.types import (
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    Liquidity,
    OrderRequest,
    Reject,
    RejectReason,
    Side,
    TimeInForce,
    TopOfBook,
    VenueEvent,
)
from flashmm_engine.venues.base import Venue, VenueError
from flashmm_engine.venues.sim.client import SimVenueClient
from tests.integration.sim_process import sim_venue_process

KEYS = {"alice": "alice-secret-key-1", "bob": "bob-secret-key-2"}
MARKET = "SIM:ETHUSD"
STARTUP_TIMEOUT_S = 20.0
EVENT_TIMEOUT_S = 30.0
"""A guard only: each wait ends as soon as its event arrives."""
OUTAGE_S = 3.0
"""The reconnect delay of the test's dropped client: far longer than the other session's two requests."""


@pytest.fixture
def venue_url(tmp_path: Path) -> Iterator[str]:
    env = {"FLASHMM_SIM__API_KEYS": json.dumps(KEYS), "FLASHMM_SIM__PORT": "0"}
    with sim_venue_process([], env, tmp_path, secrets=tuple(KEYS.values())) as started:
        yield started["url"]


class _SlowRetry(random.Random):
    """Full-jitter backoff that always waits its ceiling, so the outage in the test has a known length."""

    def uniform(self, a: float, b: float) -> float:
        return b


async def _client(url: str, account: str, backoff: Backoff | None = None) -> SimVenueClient:
    client = SimVenueClient(url, SecretStr(KEYS[account]), backoff)
    await client.connect()
    return client


async def _next(stream: AsyncIterator[VenueEvent], until: Callable[[VenueEvent], bool]) -> list[VenueEvent]:
    seen: list[VenueEvent] = []
    async with asyncio.timeout(EVENT_TIMEOUT_S):
        async for event in stream:
            seen.append(event)
            if until(event):
                return seen
    return seen


async def _top(client: SimVenueClient) -> TopOfBook:
    async with asyncio.timeout(EVENT_TIMEOUT_S):
        async for event in client.market_data():
            if isinstance(event, TopOfBook):
                return event
    raise AssertionError("no top of book")


def _order(cid: str, side: Side, price: int, lots: int, tif: TimeInForce = TimeInForce.GTC) -> OrderRequest:
    return OrderRequest(cid, MARKET, side, price, lots, tif)


async def test_orders_fills_and_reconnect_without_loss_or_duplicates(venue_url: str) -> None:
    outage = Backoff(base_s=OUTAGE_S, factor=1.0, max_s=OUTAGE_S, rng=_SlowRetry())
    alice = await _client(venue_url, "alice", outage)
    other = await _client(venue_url, "alice")
    try:
        assert isinstance(alice, Venue)
        events = alice.events()
        top = await _top(alice)
        start = (await alice.positions())[MARKET]  # funded base holdings, in lots
        resting = _order("r-1", Side.BUY, top.bid_price - 200, 5)
        await alice.place([resting])
        assert isinstance((await _next(events, lambda e: True))[0], Ack)
        assert [o.client_id for o in await alice.open_orders(MARKET)] == ["r-1"]

        await alice.place([_order("t-1", Side.BUY, top.ask_price + 20, 3, TimeInForce.IOC)])
        got = await _next(
            events,
            lambda e: (
                isinstance(e, Fill | CancelAck)
                and e.client_id == "t-1"
                and (isinstance(e, CancelAck) or e.remaining == 0)
            ),
        )
        fills = [e for e in got if isinstance(e, Fill)]
        assert fills and all(f.liquidity is Liquidity.TAKER and f.fee > 0 for f in fills)
        bought = sum(f.size for f in fills)
        assert (await alice.positions())[MARKET] == start + bought

        # the connection drops; meanwhile another session of the same account trades and cancels
        await alice.drop_connection()
        await other.cancel([CancelRequest("r-1", MARKET)])
        await other.place([_order("t-2", Side.SELL, top.bid_price - 20, 1, TimeInForce.IOC)])
        await other.open_orders(MARKET)  # answered after the cancel and the IOC were handled (one socket)
        assert alice.reconnects == 0, "the outage should outlast the other session's orders"

        after = await _next(events, lambda e: isinstance(e, Fill) and e.client_id == "t-2")
        assert next(e for e in after if isinstance(e, CancelAck)).client_id == "r-1"
        assert alice.reconnects == 1
        keys = [(type(e).__name__, e.client_id, getattr(e, "fill_id", "")) for e in after]
        assert len(keys) == len(set(keys)), "an event was delivered twice"
        assert await alice.open_orders(MARKET) == []
        assert (await alice.positions())[MARKET] == start + bought - 1
        await alice.cancel([CancelRequest("r-1", MARKET)])  # idempotent: a second cancel changes nothing
        (again,) = await _next(events, lambda e: True)
        assert isinstance(again, Reject) and again.reason is RejectReason.UNKNOWN_ORDER
        balances = await alice.balances()
        assert set(balances) == {"ETH", "USD"} and balances["USD"] < Decimal(100000)
    finally:
        await alice.close()
        await other.close()


async def test_bad_orders_are_rejected_with_reasons_and_never_crash(venue_url: str) -> None:
    bob = await _client(venue_url, "bob")
    try:
        events = bob.events()
        top = await _top(bob)
        cases = [
            (
                {"client_id": "b-1", "market": MARKET, "side": "buy", "price": "2500.00", "size": "0"},
                RejectReason.NON_POSITIVE_SIZE,
            ),
            (
                {"client_id": "b-2", "market": MARKET, "side": "buy", "price": "2500.03", "size": "0.001"},
                RejectReason.OFF_TICK,
            ),
            (
                {"client_id": "b-3", "market": "NOPE", "side": "buy", "price": "2500.00", "size": "0.001"},
                RejectReason.UNKNOWN_MARKET,
            ),
            (
                {"client_id": "b-4", "market": MARKET, "side": "sell", "price": "2600.00", "size": "11"},
                RejectReason.INSUFFICIENT_BALANCE,
            ),
            ({"client_id": "b-5", "market": MARKET, "side": "buy", "price": "1e400"}, RejectReason.MALFORMED),
            (
                {"client_id": "b-6", "market": MARKET, "side": "buy", "price": "1e400", "size": "0.001"},
                RejectReason.OUT_OF_RANGE,
            ),
        ]
        ws = bob._ws
        assert ws is not None
        for raw, reason in cases:
            await ws.send(json.dumps({"op": "place", "orders": [raw]}))
            (event,) = await _next(events, lambda e: True)
            assert isinstance(event, Reject) and event.reason is reason, (raw, event)
            assert event.client_id == raw["client_id"]
        await bob.place([_order("dup", Side.BUY, top.bid_price - 100, 1)])
        # a batch runs its cancels, then its orders: an unknown cancel and a reused client id are rejected
        order = {"client_id": "dup", "market": MARKET, "side": "buy", "price": "1.00", "size": "0.001"}
        cancel = {"client_id": "none", "market": MARKET}
        await ws.send(json.dumps({"op": "batch", "cancels": [cancel], "orders": [order]}))
        ack, unknown, duplicate = await _next(
            events, lambda e: isinstance(e, Reject) and e.client_id == "dup"
        )
        assert isinstance(ack, Ack) and ack.client_id == "dup"
        assert isinstance(unknown, Reject) and unknown.reason is RejectReason.UNKNOWN_ORDER
        assert isinstance(duplicate, Reject) and duplicate.reason is RejectReason.DUPLICATE_CLIENT_ID
        async with connect(venue_url) as raw_ws:
            for garbage in ("{not json", "[1, 2]", json.dumps({"op": 5}), json.dumps({"op": "explode"})):
                await raw_ws.send(garbage)
                reply = json.loads(await asyncio.wait_for(raw_ws.recv(), EVENT_TIMEOUT_S))
                assert reply["type"] == "error" and reply["reason"] == "malformed"
            await raw_ws.send(json.dumps({"op": "place", "orders": []}))
            reply = json.loads(await asyncio.wait_for(raw_ws.recv(), EVENT_TIMEOUT_S))
            assert reply["reason"] == "unauthenticated"
        assert [o.client_id for o in await bob.open_orders()] == ["dup"]  # the venue is alive and consistent
        with pytest.raises(VenueError, match="unauthorized"):
            await SimVenueClient(venue_url, SecretStr("wrong-key")).connect()
    finally:
        await bob.close()


async def test_market_data_carries_when_its_frame_was_read(venue_url: str) -> None:
    """Tick-to-order starts when the frame of the book update was read off the socket: after the venue
    published it (same host clock), before the consumer got it."""
    client = await _client(venue_url, "bob")
    try:
        assert client.market_rx_ns is None
        top = await _top(client)
        handed_out = time.time_ns()
        rx = client.market_rx_ns
        assert rx is not None and top.ts_local <= rx <= handed_out
    finally:
        await client.close()
