"""A quote-cycle tx that cancels an order which has just filled fails as a whole on chain (wasm code 5,
"message index: N: Order X not found"). The venue isolates that message, reports the cancel as failed,
keeps the order's fills, and resubmits the rest of the cycle in the next tx."""

from __future__ import annotations

from flashmm_engine.types import (
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    OrderRequest,
    OrderStatus,
    Reject,
    RejectReason,
    Side,
    VenueEvent,
)
from flashmm_engine.venues.sei.stub.server import StubNode
from flashmm_engine.venues.sei.venue import SeiVenue
from tests.integration.sei_support import (
    collect,
    lift_ws_outage,
    start_ws_outage,
    taker_order,
    wait_blocks,
)

MARKET = "sei:ETH/USDC"
PRICE = 250_000


def bid(client_id: str, size: int, price: int = PRICE) -> OrderRequest:
    return OrderRequest(client_id, MARKET, Side.BUY, price, size)


def of(events: list[VenueEvent], kind: type, client_id: str) -> list[VenueEvent]:
    return [e for e in events if isinstance(e, kind) and e.client_id == client_id]


def fill_sizes(events: list[VenueEvent], client_id: str) -> list[int]:
    return [e.size for e in events if isinstance(e, Fill) and e.client_id == client_id]


def settled(events: list[VenueEvent]) -> bool:
    return bool(of(events, CancelAck, "b2") and of(events, Ack, "p1") and of(events, Fill, "b1"))


async def rest_two_bids(venue: SeiVenue) -> None:
    await venue.place([bid("b1", 4), bid("b2", 5, PRICE - 100)])
    await collect(venue, lambda evs: sum(isinstance(e, Ack) for e in evs) == 2)


async def test_cycle_failing_in_the_block_is_resubmitted_without_the_filled_cancel(
    stub: StubNode, venue: SeiVenue
) -> None:
    await rest_two_bids(venue)
    await stub.apply_faults({"hold_blocks": True})
    # a taker fills b1 in the same block as our cycle, ahead of it: our simulation still saw b1 open
    assert (await taker_order(stub, Side.SELL, PRICE, 4, sequence=0)).accepted
    cancels = [CancelRequest("b1", MARKET), CancelRequest("b2", MARKET)]
    first = await venue.submit_cycle(cancels, [bid("p1", 3, PRICE - 200)])
    assert first is not None and first.accepted
    await stub.apply_faults({"hold_blocks": False})

    events = await collect(venue, settled)
    failed = stub.chain.txs[first.txhash]
    assert failed.code == 5 and "message index: 0: Order" in failed.raw_log
    assert [(e.reason, e.client_id) for e in events if isinstance(e, Reject)] == [
        (RejectReason.UNKNOWN_ORDER, "b1")
    ]
    assert fill_sizes(events, "b1") == [4]
    assert [e.remaining for e in of(events, CancelAck, "b2") if isinstance(e, CancelAck)] == [5]
    assert {o.client_id for o in await venue.open_orders()} == {"p1"}
    assert venue.tracker.orders["b1"].status is OrderStatus.FILLED
    assert venue.tracker.stats.failed_txs == 1


async def test_cycle_refused_by_simulation_goes_again_without_the_filled_cancel(
    stub: StubNode, venue: SeiVenue
) -> None:
    await rest_two_bids(venue)
    # b1 fills while we are deaf, so our tracker still believes it is open
    await start_ws_outage(stub)
    assert (await taker_order(stub, Side.SELL, PRICE, 4, sequence=0)).accepted
    await wait_blocks(2)
    cancels = [CancelRequest("b1", MARKET), CancelRequest("b2", MARKET)]
    result = await venue.submit_cycle(cancels, [bid("p1", 3, PRICE - 200)])
    assert result is not None and result.accepted, result
    assert venue.tracker.stats.cancel_races == 1
    await lift_ws_outage(stub)
    # the refused draft never reached the chain: simulation named the message, the rest went at once
    assert all(rec.code == 0 for rec in stub.chain.txs.values())

    events = await collect(venue, settled, timeout_s=30.0)
    assert [(e.reason, e.client_id) for e in events if isinstance(e, Reject)] == [
        (RejectReason.UNKNOWN_ORDER, "b1")
    ]
    assert fill_sizes(events, "b1") == [4]
    await wait_blocks(2)
    assert venue.tracker.orders["b1"].status is OrderStatus.FILLED
    assert venue.tracker.pending_checks() == []
    assert venue.tracker.stats.state_disagreements == 0
