"""The order tracker: each event once, each fill event exactly as the contract reported it (size, price,
fee, liquidity) whatever the delivery order, and contract state used only as a consistency check."""

from __future__ import annotations

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import (
    Ack,
    CancelAck,
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    Reject,
    RejectReason,
    Side,
    VenueEvent,
)
from flashmm_engine.venues.sei import codec as c
from flashmm_engine.venues.sei.events import ChainEvent, TxOutcome
from flashmm_engine.venues.sei.orders import CycleItem, OrderTracker
from flashmm_engine.venues.sei.units import DenomMarket

ME, OTHER, CONTRACT = "sei1me", "sei1other", "sei1contract"
MARKET = DenomMarket.from_settings(SeiSettings())
CODEC = c.FinCodec(MARKET)


def tracker() -> OrderTracker:
    t = OrderTracker(ME, CONTRACT, MARKET, CODEC)
    t.register(OrderRequest("q1", "sei:ETH/USDC", Side.BUY, 250_000, 10))
    t.on_accepted("TX1", (CycleItem("q1", CODEC.place(Side.BUY, 250_000, 10), is_cancel=False),), 0.0)
    return t


def event(
    action: str,
    idx: int,
    size: int,
    remaining: int,
    owner: str = ME,
    event_index: int = 0,
    price: str = "2500",
    fee: int = 0,
) -> ChainEvent:
    attrs = {
        c.A_CONTRACT: CONTRACT,
        c.A_IDX: "5",
        c.A_OWNER: owner,
        c.A_SIDE: "bid",
        c.A_PRICE: price,
        c.A_BASE: str(size * 100),
        c.A_REMAINING: str(remaining * 100),
        c.A_FEE: str(fee),
        c.A_LIQUIDITY: Liquidity.MAKER.value,
    }
    return ChainEvent(f"wasm-{action}", attrs, idx, event_index)


def tx(txhash: str, *events: ChainEvent, code: int = 0) -> TxOutcome:
    return TxOutcome(txhash, 1, code, "", events)


def fills(events: list[VenueEvent]) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]


def test_reordered_fills_stay_separate_and_duplicates_count_once() -> None:
    t = tracker()
    placed = tx("TX1", event("submit_order", 0, 10, 10))
    assert [type(e) for e in t.on_tx(placed, 1)] == [Ack]
    assert t.on_tx(placed, 2) == []  # duplicate delivery
    first = tx("TX2", event("fill", 0, 3, 7, event_index=4, price="2499.5", fee=1_000))
    second = tx("TX3", event("fill", 0, 2, 5, event_index=4, fee=2_000))
    late = fills(t.on_tx(second, 3))  # arrived first: only its own 2 lots, its own price and fee
    early = fills(t.on_tx(first, 4))
    assert [(f.size, f.price, f.fee) for f in late] == [(2, 250_000, MARKET.quote_raw_to_notional(2_000))]
    assert [(f.size, f.price, f.fee) for f in early] == [(3, 249_950, MARKET.quote_raw_to_notional(1_000))]
    assert [f.fill_id for f in late + early] == ["TX3:0:4", "TX2:0:4"]
    assert fills(t.on_tx(second, 5)) == []
    assert t.stats.duplicates == 2
    assert (t.orders["q1"].filled, t.orders["q1"].status) == (5, OrderStatus.PARTIALLY_FILLED)


def test_a_fill_past_the_order_size_is_refused_and_alerted() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    assert len(fills(t.on_tx(tx("TX2", event("fill", 0, 8, 2)), 2))) == 1
    assert fills(t.on_tx(tx("TX3", event("fill", 0, 3, 0)), 3)) == []
    assert t.stats.overfills == 1 and t.orders["q1"].filled == 8


def test_contract_state_never_invents_fills_it_raises_an_alert() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    row = c.ContractOrder("5", ME, Side.BUY, 250_000, 10, 6)
    assert t.check_consistency([row], 2) == []
    assert t.stats.state_disagreements == 1 and t.orders["q1"].filled == 0
    # the fill events, once handled, make the same snapshot agree
    t.on_tx(tx("TX9", event("fill", 0, 6, 4)), 3)
    assert t.check_consistency([row], 4) == [] and t.stats.state_disagreements == 1
    retract = t.on_tx(tx("TX10", event("retract_order", 0, 4, 0)), 5)
    assert [(type(e), getattr(e, "remaining", None)) for e in retract] == [(CancelAck, 4)]


def test_failed_tx_is_handed_to_the_venue_and_foreign_events_are_ignored() -> None:
    t = tracker()
    assert t.on_tx(tx("TX1", code=5), 1) == []
    ((ours, detail),) = t.failed
    assert ours.places == {0: "q1"} and "code 5" in detail
    assert t.on_tx(tx("TX7", event("fill", 0, 1, 0, owner=OTHER)), 2) == []
    assert t.stats.foreign_events == 1
    assert t.on_tx(tx("TX8", event("fill", 0, 1, 0)), 3) == []  # unknown order idx: counted, not adopted
    assert t.stats.unknown_orders == 1


def test_a_failed_cancel_is_settled_by_the_contract_state() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    t.on_tx(tx("TX2", event("fill", 0, 4, 6)), 2)
    cancel = CycleItem("q1", CODEC.cancel("5"), is_cancel=True)
    reject = t.on_item_failed(cancel, "Order 5 not found", 3)
    assert (reject.client_id, reject.reason) == ("q1", RejectReason.UNKNOWN_ORDER)
    assert t.order_idx("q1") is None and [o.client_id for o in t.pending_checks()] == ["q1"]
    still_open = c.ContractOrder("5", ME, Side.BUY, 250_000, 10, 4, open=True)
    assert t.check_consistency([still_open], 4) == [] and t.order_idx("q1") == "5"
    t.on_item_failed(cancel, "Order 5 not found", 5)
    closed = c.ContractOrder("5", ME, Side.BUY, 250_000, 10, 4, open=False)
    settled = t.check_consistency([closed], 6)
    assert [(type(e), getattr(e, "remaining", None)) for e in settled] == [(CancelAck, 6)]
    assert t.orders["q1"].status is OrderStatus.CANCELLED and t.stats.state_disagreements == 0
    place = CycleItem("q2", CODEC.place(Side.BUY, 250_000, 1), is_cancel=False)
    assert isinstance(t.on_item_failed(place, "insufficient funds", 7), Reject)


def test_a_failed_cancel_of_an_order_gone_from_the_contract_closes_it_with_an_alert() -> None:
    t = tracker()
    t.on_tx(tx("TX1", event("submit_order", 0, 10, 10)), 1)
    t.on_item_failed(CycleItem("q1", CODEC.cancel("5"), is_cancel=True), "Order 5 not found", 2)
    closed = t.check_consistency([], 3)
    assert [(type(e), getattr(e, "remaining", None)) for e in closed] == [(CancelAck, 10)]
    assert t.stats.state_disagreements == 1 and fills(closed) == [] and t.pending_checks() == []
