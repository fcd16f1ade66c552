"""The order tracker: each event once, fills by cumulative size, gaps recovered from contract state."""

from __future__ import annotations

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import Ack, CancelAck, Fill, OrderRequest, OrderStatus, Reject, Side, VenueEvent
from flashmm_engine.venues.sei import codec as c
from flashmm_engine.venues.sei.events import ChainEvent, TxOutcome
from flashmm_engine.venues.sei.orders import OrderTracker
from flashmm_engine.venues.sei.units import DenomMarket

ME, OTHER, CONTRACT = "sei1me", "sei1other", "sei1contract"
MARKET = DenomMarket.from_settings(SeiSettings())


def tracker() -> OrderTracker:
    t = OrderTracker(ME, CONTRACT, MARKET, c.FinCodec(MARKET))
    t.register(OrderRequest("q1", "sei:ETH/USDC", Side.BUY, 250_000, 10))
    t.on_accepted("TX1", {0: "q1"}, {}, 0.0)
    return t


def event(
    action: str, idx: int, size: int, remaining: int, owner: str = ME, event_index: int = 0
) -> ChainEvent:
    attrs = {
        c.A_CONTRACT: CONTRACT,
        c.A_IDX: "5",
        c.A_OWNER: owner,
        c.A_SIDE: "bid",
        c.A_PRICE: "2500",
        c.A_BASE: str(size * 100),
        c.A_REMAINING: str(remaining * 100),
    }
    return ChainEvent(f"wasm-{action}", attrs, idx, event_index)


def tx(txhash: str, *events: ChainEvent, code: int = 0) -> TxOutcome:
    return TxOutcome(txhash, 1, code, "", events)


def sizes(events: list[VenueEvent]) -> list[int]:
    return [e.size for e in events if isinstance(e, Fill)]


def test_ack_then_fills_with_duplicates_and_reordering() -> None:
    t = tracker()
    placed = tx("TX1", event("submit_order", 0, 10, 10))
    assert [type(e) for e in t.on_tx(placed, 1)] == [Ack]
    assert t.on_tx(placed, 2) == []  # duplicate delivery
    first = tx("TX2", event("fill", 0, 3, 7, event_index=4))
    second = tx("TX3", event("fill", 0, 2, 5, event_index=4))
    assert sizes(t.on_tx(second, 3)) == [5]  # arrived first: covers both, by cumulative size
    assert sizes(t.on_tx(first, 4)) == []
    assert sizes(t.on_tx(second, 5)) == []
    assert t.stats.duplicates == 2
    assert t.orders["q1"].status is OrderStatus.PARTIALLY_FILLED


def test_gap_recovered_by_reconcile_then_late_event_ignored() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    row = c.ContractOrder("5", ME, Side.BUY, 250_000, 10, 6)
    recovered = t.reconcile([row], 2)
    assert sizes(recovered) == [6] and t.stats.recovered_fills == 1
    assert sizes(t.on_tx(tx("TX9", event("fill", 0, 6, 4)), 3)) == []
    retract = t.on_tx(tx("TX10", event("retract_order", 0, 3, 0)), 4)  # one more lot filled unseen
    assert sizes(retract) == [1]
    assert [e.remaining for e in retract if isinstance(e, CancelAck)] == [3]


def test_failed_tx_rejects_its_places_and_foreign_events_are_ignored() -> None:
    t = tracker()
    out = t.on_tx(tx("TX1", code=5), 1)
    assert [type(e) for e in out] == [Reject] and t.orders["q1"].status is OrderStatus.REJECTED
    assert t.on_tx(tx("TX7", event("fill", 0, 1, 0, owner=OTHER)), 2) == []
    assert t.stats.foreign_events == 1
    assert t.on_tx(tx("TX8", event("fill", 0, 1, 0)), 3) == []  # unknown order idx: counted, not adopted
    assert t.stats.unknown_orders == 1
