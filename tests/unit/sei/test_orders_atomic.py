"""Sei event handling is atomic per event: a bad event is quarantined once and loses no other fill."""

from __future__ import annotations

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import Ack, Fill, OrderRequest, OrderStatus, Side
from flashmm_engine.venues.sei.codec import FinCodec
from flashmm_engine.venues.sei.events import ChainEvent
from flashmm_engine.venues.sei.orders import CycleItem, OrderTracker
from flashmm_engine.venues.sei.units import DenomMarket
from tests.unit.sei.test_orders import CONTRACT, ME, event, fills, tracker, tx


def undecodable_price(msg_index: int, event_index: int) -> ChainEvent:
    good = event("fill", msg_index, 1, 9, event_index=event_index)
    return ChainEvent(good.type, {**good.attrs, "price": "NaN"}, msg_index, event_index)


def test_the_event_after_a_bad_one_is_applied_and_a_replay_changes_nothing() -> None:
    t = tracker()
    assert [type(e) for e in t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)] == [Ack]
    bad_tx = tx(
        "TX2",
        event("fill", 0, 2, 8, event_index=0),
        undecodable_price(0, 1),
        event("fill", 0, 3, 5, event_index=2),
    )
    first = fills(t.on_tx(bad_tx, 2))
    assert [(f.fill_id, f.size) for f in first] == [("TX2:0:0", 2), ("TX2:0:2", 3)]
    assert t.quarantine.count == 1
    assert fills(t.on_tx(bad_tx, 3)) == []  # replay of the same tx: nothing twice, nothing counted twice
    assert t.quarantine.count == 1 and [q.key for q in t.quarantine.events] == [("TX2", 0, 1)]
    assert (t.orders["q1"].filled, t.orders["q1"].status) == (5, OrderStatus.PARTIALLY_FILLED)


def test_a_fee_that_does_not_convert_quarantines_only_its_event() -> None:
    # 18 quote decimals: one raw quote unit is 1e-6 notional units, so a 1-raw fee has no exact value
    market = DenomMarket.from_settings(SeiSettings(quote_decimals=18))
    codec = FinCodec(market)
    t = OrderTracker(ME, CONTRACT, market, codec)
    t.register(OrderRequest("q1", "sei:ETH/USDC", Side.BUY, 250_000, 10))
    t.on_accepted("TX1", (CycleItem("q1", codec.place(Side.BUY, 250_000, 10), is_cancel=False),), 0)
    price = "2500000000000000"  # 2500 quote per base, in raw units per raw unit
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10, price=price)), 1)
    ok = event("fill", 0, 4, 6, price=price, fee=10**12)
    bad = event("fill", 0, 1, 5, price=price, fee=1, event_index=1)
    out = t.on_tx(tx("TX2", ok, bad), 2)
    assert [(f.size, f.fee) for f in fills(out)] == [(4, 1_000_000)] and t.quarantine.count == 1
    assert "UnitError" in t.quarantine.events[0].error and t.orders["q1"].filled == 4


def test_a_readable_copy_of_a_quarantined_event_is_applied_once() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    t.on_tx(tx("TX2", event("fill", 0, 2, 8), undecodable_price(0, 1)), 2)
    # the tx index returns the same tx with the event intact
    recovered = fills(t.on_tx(tx("TX2", event("fill", 0, 2, 8), event("fill", 0, 1, 7, event_index=1)), 3))
    assert [(f.fill_id, f.size) for f in recovered] == [("TX2:0:1", 1)]
    assert t.quarantine.events == [] and t.quarantine.count == 1 and t.quarantine.released == 1
    assert fills(t.on_tx(tx("TX2", event("fill", 0, 2, 8), event("fill", 0, 1, 7, event_index=1)), 4)) == []


def test_an_unreadable_chain_event_is_quarantined_not_skipped() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    broken = ChainEvent("?", {}, -1, 1, error="unreadable event: KeyError('type')")
    out = t.on_tx(tx("TX2", event("fill", 0, 1, 9), broken), 2)
    assert len(fills(out)) == 1 and isinstance(out[0], Fill) and t.quarantine.count == 1


def test_numbers_outside_the_bands_are_quarantined() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    huge_price = event("fill", 0, 1, 9, price="1" + "0" * 20, event_index=0)
    huge_size = event("fill", 0, 3 * 10**9, 9, event_index=1)  # 3e9 lots: beyond 2**31
    out = t.on_tx(tx("TX2", huge_price, huge_size, event("fill", 0, 1, 9, event_index=2)), 2)
    assert [f.fill_id for f in fills(out)] == ["TX2:0:2"] and t.quarantine.count == 2
    assert all("out of range" in q.error for q in t.quarantine.events)
