"""Tracker memory stays bounded over a long run, and UNKNOWN orders are resolved by the contract's state."""

from __future__ import annotations

from flashmm_engine.types import NS_PER_MS, Ack, CancelAck, OrderRequest, OrderStatus, Reject, Side
from flashmm_engine.venues.sei import codec as c
from flashmm_engine.venues.sei import orders as orders_module
from flashmm_engine.venues.sei.events import ChainEvent, TxOutcome
from flashmm_engine.venues.sei.orders import CycleItem, OrderTracker
from flashmm_engine.venues.sei.txbook import MAX_RESOLVED_TXS
from tests.unit.sei.test_orders import CODEC, CONTRACT, MARKET, ME


def chain_event(action: str, idx: int, size: int, remaining: int, event_index: int = 0) -> ChainEvent:
    attrs = {
        c.A_CONTRACT: CONTRACT,
        c.A_IDX: str(idx),
        c.A_OWNER: ME,
        c.A_SIDE: "bid",
        c.A_PRICE: "2500",
        c.A_BASE: str(size * 100),
        c.A_REMAINING: str(remaining * 100),
    }
    return ChainEvent(f"wasm-{action}", attrs, 0, event_index)


N_ORDERS = 100_000


def test_a_100k_order_run_keeps_every_container_below_its_cap() -> None:
    t = OrderTracker(ME, CONTRACT, MARKET, CODEC, retention_s=600.0)
    peak = {"orders": 0, "by_idx": 0, "txs": 0, "unresolved": 0}
    ts = 0
    place = CODEC.place(Side.BUY, 250_000, 2)
    for i in range(N_ORDERS):
        ts += 10 * NS_PER_MS  # 100 orders a second: the 600 s window alone would keep 60,000
        client_id = f"q{i}"
        t.register(OrderRequest(client_id, MARKET.spec.symbol, Side.BUY, 250_000, 2))
        t.on_accepted(f"P{i}", (CycleItem(client_id, place, is_cancel=False),), ts)
        t.on_tx(TxOutcome(f"P{i}", i, 0, "", (chain_event("submit_order", i, 2, 2),)), ts)
        closing = chain_event("fill", i, 2, 0) if i % 2 else chain_event("retract_order", i, 2, 0)
        t.on_tx(TxOutcome(f"C{i}", i, 0, "", (closing,)), ts)
        if i % 1000 == 0:
            sizes = {"orders": len(t.orders), "by_idx": len(t.by_idx), "txs": len(t.txs)}
            sizes["unresolved"] = t.txs.unresolved_count
            peak = {k: max(v, sizes[k]) for k, v in peak.items()}
    assert peak["orders"] <= orders_module.MAX_TERMINAL_ORDERS + 1
    assert peak["by_idx"] <= orders_module.MAX_TERMINAL_ORDERS + 1
    assert peak["txs"] <= MAX_RESOLVED_TXS + 1 and peak["unresolved"] <= 1
    assert len(t._seen) <= orders_module.MAX_SEEN_EVENTS
    # the newest finished orders are still there (late duplicates still count once)
    assert t.orders[f"q{N_ORDERS - 1}"].status is OrderStatus.FILLED
    assert (
        t.on_tx(TxOutcome(f"C{N_ORDERS - 1}", 1, 0, "", (chain_event("fill", N_ORDERS - 1, 2, 0),)), ts) == []
    )
    # retention by time: an hour later everything finished is gone
    t.prune(ts + 3_600 * 10**9)
    assert len(t.orders) == 0 and len(t.txs) == 0 and len(t.by_idx) == 0


def unknown_order() -> OrderTracker:
    t = OrderTracker(ME, CONTRACT, MARKET, CODEC, retention_s=60.0)
    t.register(OrderRequest("u1", MARKET.spec.symbol, Side.BUY, 250_000, 3))
    t.on_accepted("TXU", (CycleItem("u1", CODEC.place(Side.BUY, 250_000, 3), is_cancel=False),), 0)
    assert t.on_tx_timeout("TXU", 1) == []
    assert t.orders["u1"].status is OrderStatus.UNKNOWN and t.pending_checks()
    return t


def test_an_unknown_order_found_on_the_contract_is_adopted() -> None:
    t = unknown_order()
    other = c.ContractOrder("8", ME, Side.BUY, 250_000, 4, 0)  # not ours by size
    row = c.ContractOrder("9", ME, Side.BUY, 250_000, 3, 0)
    out = t.check_consistency([other, row], 2)
    assert [(type(e), e.client_id) for e in out] == [(Ack, "u1")]
    assert t.order_idx("u1") == "9" and t.stats.adopted_late == 1 and not t.pending_checks()
    retract = t.on_tx(TxOutcome("TXR", 3, 0, "", (chain_event("retract_order", 9, 3, 0),)), 3)
    assert [type(e) for e in retract] == [CancelAck]


def test_an_unknown_order_never_seen_is_rejected_only_at_the_end_of_retention() -> None:
    t = unknown_order()
    assert t.check_consistency([], 2) == [] and t.orders["u1"].status is OrderStatus.UNKNOWN
    out = t.give_up("TXU", 3)
    assert [(type(e), e.client_id) for e in out] == [(Reject, "u1")] and t.stats.given_up == 1
    assert t.txs.unresolved_count == 0
    # should it land even later, its SUBMIT is adopted as an order of ours, cancellable
    late = t.on_tx(TxOutcome("TXU", 9, 0, "", (chain_event("submit_order", 11, 3, 3),)), 4)
    assert [type(e) for e in late] == [Ack]
    assert t.order_idx(late[0].client_id) == "11"


def test_a_timed_out_cancel_is_reported_unconfirmed_and_checked() -> None:
    t = OrderTracker(ME, CONTRACT, MARKET, CODEC)
    t.register(OrderRequest("o1", MARKET.spec.symbol, Side.BUY, 250_000, 1))
    t.on_accepted("TXP", (CycleItem("o1", CODEC.place(Side.BUY, 250_000, 1), is_cancel=False),), 0)
    t.on_tx(TxOutcome("TXP", 1, 0, "", (chain_event("submit_order", 4, 1, 1),)), 1)
    t.on_accepted("TXC", (CycleItem("o1", CODEC.cancel("4"), is_cancel=True),), 2)
    out = t.on_tx_timeout("TXC", 3)
    assert [(type(e), e.client_id) for e in out] == [(Reject, "o1")]
    assert [o.client_id for o in t.pending_checks()] == ["o1"]
