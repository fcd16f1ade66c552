"""A place whose tx lands after the tx timeout: the order goes UNKNOWN (never rejected on a guess), the late
SUBMIT adopts it (Ack, counted), it can be cancelled, and nothing of ours is left on the stub contract.
Time is an injected clock: the timeout passes when the test advances it, not by racing the wall clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import (
    NS_PER_S,
    Ack,
    CancelAck,
    CancelRequest,
    OrderRequest,
    OrderStatus,
    Reject,
    Side,
)
from flashmm_engine.venues.sei.stub.server import StubNode
from flashmm_engine.venues.sei.venue import SeiVenue
from tests.integration.sei_support import BLOCK_WAIT_S, POLL_S, collect, venue_settings

MARKET = "sei:ETH/USDC"
TIMEOUT_S = 60.0


def open_on_contract(stub: StubNode, owner: str) -> list[str]:
    rows = stub.chain.contract.query({"orders_by_user": {"address": owner}})["orders"]
    return [r["idx"] for r in rows if r["open"] == "true"]


async def until(condition: Callable[[], bool]) -> None:
    """Until `condition` holds, however slowly the machine runs (the stub may be holding its blocks, so
    this cannot count blocks); the timeout is only a guard."""
    async with asyncio.timeout(BLOCK_WAIT_S):
        while not condition():  # noqa: ASYNC110 - the venue sets no event for an order's status
            await asyncio.sleep(POLL_S)


async def test_a_place_landing_after_its_timeout_is_adopted_reported_and_cancellable(stub: StubNode) -> None:
    clock = ManualClock(time.time_ns())
    venue = SeiVenue(venue_settings(stub, tx_timeout_s=TIMEOUT_S), clock=clock)
    await venue.connect()
    try:
        await stub.apply_faults({"hold_blocks": True})  # the tx waits in the mempool
        await venue.place([OrderRequest("late", MARKET, Side.BUY, 250_000, 2)])
        clock.advance_to(clock.now_ns() + int((TIMEOUT_S + 1) * NS_PER_S))
        await until(lambda: venue.tracker.orders["late"].status is OrderStatus.UNKNOWN)
        assert venue.tracker.stats.timed_out_places == 1
        assert [(o.client_id, o.status) for o in await venue.open_orders()] == [("late", OrderStatus.UNKNOWN)]
        assert venue.tracker.order_idx("late") is None  # nothing to cancel yet

        await stub.apply_faults({"hold_blocks": False})
        events = await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs))
        assert not [e for e in events if isinstance(e, Reject)]
        assert venue.tracker.stats.adopted_late == 1
        assert venue.tracker.orders["late"].status is OrderStatus.OPEN
        idx = venue.tracker.order_idx("late")
        assert idx is not None and open_on_contract(stub, venue.address) == [idx]

        await venue.cancel([CancelRequest("late", MARKET)])
        cancelled = await collect(venue, lambda evs: any(isinstance(e, CancelAck) for e in evs))
        assert [e.remaining for e in cancelled if isinstance(e, CancelAck)] == [2]
        assert open_on_contract(stub, venue.address) == []
        assert await venue.open_orders() == []
    finally:
        await venue.close()
