"""The order state machine, diffing that keeps queue position, ack timeouts into venue queries, pruning."""

from __future__ import annotations

from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.types import (
    Ack,
    CancelAck,
    Fill,
    Liquidity,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    Quote,
    Reject,
    RejectReason,
    Side,
    TimeInForce,
)

TIMEOUT = 1_000


def place(
    om: OrderManager, cid: str, side: Side = Side.BUY, price: int = 100, size: int = 3, now: int = 0
) -> None:
    om.placed(OrderRequest(cid, "M", side, price, size, TimeInForce.POST_ONLY), 0, now)


def fill(cid: str, size: int, remaining: int, n: int = 1) -> Fill:
    return Fill(f"f{n}", cid, "v", "M", Side.BUY, 100, size, 0, Liquidity.MAKER, 0, remaining)


def test_pending_live_partial_filled() -> None:
    om = OrderManager("M", TIMEOUT)
    place(om, "a")
    assert om.get("a").status is OrderStatus.PENDING and om.in_flight  # type: ignore[union-attr]
    om.on_event(Ack("a", "v", 1))
    assert om.get("a").status is OrderStatus.OPEN and not om.in_flight  # type: ignore[union-attr]
    om.on_event(fill("a", 1, 2))
    order = om.get("a")
    assert order is not None and order.status is OrderStatus.PARTIALLY_FILLED and order.remaining == 2
    om.on_event(fill("a", 2, 0, 2))
    assert om.get("a") is None and om.working() == ()  # terminal orders are pruned at once
    assert om.counts["filled"] == 1


def test_cancelled_and_rejected_are_terminal() -> None:
    om = OrderManager("M", TIMEOUT)
    place(om, "a")
    place(om, "b", Side.SELL, 105)
    om.on_event(Reject("b", RejectReason.POST_ONLY_WOULD_CROSS, "x", 1))
    om.on_event(Ack("a", "v", 1))
    (cancel,) = om.cancel_requests(om.working(), 2)
    assert cancel.client_id == "a" and om.get("a").cancel_sent and om.in_flight  # type: ignore[union-attr]
    assert om.cancel_requests(om.working(), 3) == ()  # never twice
    om.on_event(CancelAck("a", 4, 3))
    assert om.working() == () and not om.in_flight
    assert (om.counts["rejected"], om.counts["cancelled"]) == (1, 1)


def test_diff_keeps_unchanged_quotes_and_replaces_the_rest() -> None:
    om = OrderManager("M", TIMEOUT)
    place(om, "a", Side.BUY, 100)
    place(om, "b", Side.SELL, 110)
    place(om, "c", Side.SELL, 111)
    diff = om.diff([Quote(Side.BUY, 100, 3), Quote(Side.SELL, 109, 3)])
    assert [o.client_id for o in diff.keep] == ["a"]  # same side and price: left alone, queue kept
    assert sorted(o.client_id for o in diff.cancels) == ["b", "c"]
    assert diff.places == (Quote(Side.SELL, 109, 3),)
    om.cancel_requests(diff.cancels, 0)
    again = om.diff([Quote(Side.SELL, 110, 3)])  # a cancel-pending order is never reused
    assert again.places == (Quote(Side.SELL, 110, 3),) and [o.client_id for o in again.cancels] == ["a"]


def test_an_unacknowledged_order_times_out_into_a_query_not_an_assumption() -> None:
    om = OrderManager("M", TIMEOUT)
    place(om, "a", now=0)
    assert om.due_queries(TIMEOUT - 1) == ()
    assert om.due_queries(TIMEOUT) == ("a",)
    assert om.due_queries(TIMEOUT + 1) == ()  # reported once per timeout
    assert om.get("a").status is OrderStatus.PENDING  # type: ignore[union-attr]  # still counted as working
    assert om.due_queries(2 * TIMEOUT) == ("a",)
    om.on_query("a", OpenOrder("a", "v", "M", Side.BUY, 100, 3, 1, OrderStatus.PARTIALLY_FILLED))
    order = om.get("a")
    assert order is not None and order.status is OrderStatus.PARTIALLY_FILLED and order.remaining == 2
    assert not om.in_flight
    place(om, "b", now=0)
    om.on_query("b", None)  # the venue does not know it
    assert om.get("b") is None and om.counts["expired"] == 1


def test_a_refused_cancel_asks_the_venue() -> None:
    om = OrderManager("M", TIMEOUT)
    place(om, "a")
    om.on_event(Ack("a", "v", 0))
    om.cancel_requests(om.working(), 0)
    om.on_event(Reject("a", RejectReason.UNKNOWN_ORDER, "gone", 1))
    assert om.get("a") is not None and om.due_queries(1) == ("a",)
    om.on_query("a", OpenOrder("a", "v", "M", Side.BUY, 100, 3, 3, OrderStatus.FILLED))
    assert om.get("a") is None and om.counts["filled"] == 1


def test_events_for_unknown_orders_are_counted() -> None:
    om = OrderManager("M", TIMEOUT)
    assert om.on_event(Ack("nope", "v", 0)) is None
    assert om.counts["event_unknown_order"] == 1
