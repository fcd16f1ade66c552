"""SeiVenue against the stub node over real loopback sockets: place, cancel, fills, and recovery."""

from __future__ import annotations

import asyncio

from flashmm_engine.types import (
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    Liquidity,
    OrderRequest,
    Side,
    VenueEvent,
)
from flashmm_engine.venues.base import Venue
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
PRICE = 250_000  # 2500.00 USDC in 0.01 ticks


def bid(client_id: str, size: int, price: int = PRICE) -> OrderRequest:
    return OrderRequest(client_id, MARKET, Side.BUY, price, size)


def fills_of(events: list[VenueEvent], client_id: str) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill) and e.client_id == client_id]


def filled(events: list[VenueEvent], client_id: str) -> int:
    return sum(f.size for f in fills_of(events, client_id))


async def test_place_cancel_and_fill_via_websocket(stub: StubNode, venue: SeiVenue) -> None:
    assert isinstance(venue, Venue)
    result = await venue.submit_cycle([], [bid("b1", 10), bid("b2", 5, PRICE - 100)])
    assert result is not None and result.accepted
    acks = await collect(venue, lambda evs: sum(isinstance(e, Ack) for e in evs) == 2)
    assert {e.client_id for e in acks if isinstance(e, Ack)} == {"b1", "b2"}
    assert {o.client_id for o in await venue.open_orders()} == {"b1", "b2"}

    await venue.cancel([CancelRequest("b2", MARKET)])
    cancelled = await collect(venue, lambda evs: any(isinstance(e, CancelAck) for e in evs))
    assert [(e.client_id, e.remaining) for e in cancelled if isinstance(e, CancelAck)] == [("b2", 5)]

    before = await venue.balances()
    taken = await taker_order(stub, Side.SELL, PRICE - 500, 4, sequence=0)
    assert taken.accepted
    events = await collect(venue, lambda evs: filled(evs, "b1") == 4)
    (fill,) = fills_of(events, "b1")
    assert (fill.price, fill.size, fill.remaining, fill.liquidity) == (PRICE, 4, 6, Liquidity.MAKER)
    after = await venue.balances()
    assert after["ueth"] - before["ueth"] == venue.market.spec.lots_to_size(4)
    assert [o.filled for o in await venue.open_orders()] == [4]


async def test_recovers_from_sequence_mismatch(stub: StubNode, venue: SeiVenue) -> None:
    # another client using our key moved the chain's sequence on: our cached value is now stale
    await stub.apply_faults({"bump_sequence": {"address": venue.address, "by": 3}})
    result = await venue.submit_cycle([], [bid("s1", 3)])
    assert result is not None and result.accepted
    assert venue.submitter is not None and venue.submitter.sequence.mismatches == 1
    await collect(venue, lambda evs: any(isinstance(e, Ack) and e.client_id == "s1" for e in evs))
    again = await venue.submit_cycle([], [bid("s2", 3)])
    assert again is not None and again.accepted
    assert venue.submitter.sequence.mismatches == 1


async def test_dropped_websocket_misses_no_fill_and_counts_none_twice(
    stub: StubNode, venue: SeiVenue
) -> None:
    await venue.place([bid("d1", 20)])
    await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs))

    await start_ws_outage(stub)
    assert not venue.subscriber.connected.is_set() or await _disconnected(venue)
    assert (await taker_order(stub, Side.SELL, PRICE, 3, sequence=0)).accepted
    await wait_blocks(1)
    assert (await taker_order(stub, Side.SELL, PRICE, 4, sequence=1)).accepted
    await wait_blocks(1)
    assert not venue.subscriber.connected.is_set(), "the fills must happen while the websocket is down"
    await lift_ws_outage(stub)

    recovered = await collect(venue, lambda evs: filled(evs, "d1") == 7, timeout_s=30)
    assert venue.subscriber.sessions >= 2 and venue.subscriber.disconnects >= 1
    # the two fills were in the taker's txs while we were deaf: only the gap's tx search can see them
    assert venue.gaps.replayed_txs >= 2 and venue.tracker.stats.state_disagreements == 0
    assert (await taker_order(stub, Side.SELL, PRICE, 5, sequence=2)).accepted
    live = await collect(venue, lambda evs: filled(evs, "d1") == 5)
    await wait_blocks(3)  # give any late duplicate a chance to show up
    extra = await _drain(venue)
    total = filled(recovered + live + extra, "d1")
    contract_filled = stub.chain.contract.query({"orders_by_user": {"address": venue.address}})["orders"][0]
    assert total == 12
    assert int(contract_filled["filled_base_amount"]) == venue.market.base_raw(12)


NOTICE_TIMEOUT_S = 10.0
POLL_S = 0.005


async def _disconnected(venue: SeiVenue) -> bool:
    deadline = asyncio.get_running_loop().time() + NOTICE_TIMEOUT_S  # a guard: returns once noticed
    while asyncio.get_running_loop().time() < deadline:
        if not venue.subscriber.connected.is_set():
            return True
        await asyncio.sleep(POLL_S)
    return False


async def _drain(venue: SeiVenue) -> list[VenueEvent]:
    out: list[VenueEvent] = []
    while not venue._queue.empty():
        out.append(venue._queue.get_nowait())
    return out


async def test_duplicate_reordered_base64_events_are_handled_once(stub: StubNode, venue: SeiVenue) -> None:
    await stub.apply_faults({"duplicate": True, "reorder": True, "base64_attributes": True})
    await venue.place([bid("r1", 10)])
    await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs))
    # two takers' txs land in the same block; their events arrive reversed and each twice
    assert (await taker_order(stub, Side.SELL, PRICE, 2, sequence=0)).accepted
    assert (await taker_order(stub, Side.SELL, PRICE, 3, sequence=1)).accepted
    events = await collect(venue, lambda evs: filled(evs, "r1") == 5)
    await wait_blocks(3)
    events += await _drain(venue)
    fills = fills_of(events, "r1")
    assert sum(f.size for f in fills) == 5
    assert len({f.fill_id for f in fills}) == len(fills)
    assert venue.tracker.stats.duplicates > 0


async def test_insufficient_fee_rejects_the_cycle_without_losing_the_sequence(
    stub: StubNode, venue: SeiVenue
) -> None:
    from flashmm_engine.types import Reject, RejectReason

    await stub.apply_faults({"min_gas_price": "0.5"})  # the node now wants 25x our configured gas price
    result = await venue.submit_cycle([], [bid("f1", 2)])
    assert result is not None and result.code == 13 and "insufficient fees" in result.raw_log
    rejects = await collect(venue, lambda evs: any(isinstance(e, Reject) for e in evs))
    assert [(e.client_id, e.reason) for e in rejects if isinstance(e, Reject)] == [
        ("f1", RejectReason.VENUE_ERROR)
    ]
    await stub.apply_faults({"min_gas_price": "0.02"})
    ok = await venue.submit_cycle([], [bid("f2", 2)])
    assert ok is not None and ok.accepted
    assert venue.submitter is not None and venue.submitter.sequence.mismatches == 0


async def test_ack_arrives_by_tx_lookup_while_the_websocket_is_down(stub: StubNode, venue: SeiVenue) -> None:
    await start_ws_outage(stub)
    assert await _disconnected(venue)
    await venue.place([bid("p1", 4)])
    acks = await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs), timeout_s=20.0)
    assert not venue.subscriber.connected.is_set()
    assert [e.client_id for e in acks if isinstance(e, Ack)] == ["p1"]


async def test_market_data_shows_the_contract_book(stub: StubNode, venue: SeiVenue) -> None:
    from flashmm_engine.types import BookSnapshot

    await venue.place([bid("m1", 7), OrderRequest("m2", MARKET, Side.SELL, PRICE + 300, 2)])
    await collect(venue, lambda evs: sum(isinstance(e, Ack) for e in evs) == 2)
    stream = venue.market_data()
    snapshot = await asyncio.wait_for(anext(stream), 2.0)
    await stream.aclose()  # type: ignore[attr-defined]
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.bids, snapshot.asks) == (((PRICE, 7),), ((PRICE + 300, 2),))
