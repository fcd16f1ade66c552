"""The contract's order state as a consistency check of the events handled: alerts, never invented fills."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flashmm_engine.types import CancelAck, OrderStatus, VenueEvent
from flashmm_engine.venues.sei.codec import ContractOrder
from flashmm_engine.venues.sei.order_state import TrackedOrder

if TYPE_CHECKING:
    from flashmm_engine.venues.sei.orders import OrderTracker

log = logging.getLogger(__name__)


def check_consistency(
    tracker: OrderTracker, contract_orders: list[ContractOrder], ts: int
) -> list[VenueEvent]:
    """Compare handled events with a contract snapshot taken no later than the events handled so far.

    More filled on the contract than in our fills means events were missed: alert, invent nothing.
    An order whose cancel failed is settled here: still open -> cancellable again; closed with every
    fill accounted for, or gone (FIN drops closed orders) -> cancelled, as no further fill can come.
    An UNKNOWN order matching an open contract order nobody tracks (same side, price, size) is adopted.
    """
    rows = {r.order_idx: r for r in contract_orders if r.owner == tracker.owner}
    out = _adopt_unknown(
        tracker, [r for r in rows.values() if r.open and r.order_idx not in tracker.by_idx], ts
    )
    for order in tracker.orders.values():
        row = rows.get(order.order_idx or "")
        if row is None and order.cancel_failed and not order.status.is_terminal:
            _disagree(tracker, order, "gone from the contract: its fills cannot be checked")
            tracker.finish(order, OrderStatus.CANCELLED, ts)
            out.append(CancelAck(order.client_id, ts, order.size - order.filled))
        if row is None or order.order_idx is None:
            continue
        if row.filled > order.filled:
            _disagree(tracker, order, f"contract filled {row.filled}, events {order.filled}")
        elif not row.open and not order.status.is_terminal:
            if order.cancel_failed:
                tracker.finish(order, OrderStatus.CANCELLED, ts)
                out.append(CancelAck(order.client_id, ts, order.size - order.filled))
            else:
                _disagree(tracker, order, "closed on the contract, no closing event handled")
        elif row.open and order.cancel_failed:
            order.cancel_failed = False
    return out


def _adopt_unknown(tracker: OrderTracker, untracked: list[ContractOrder], ts: int) -> list[VenueEvent]:
    out: list[VenueEvent] = []
    for order in [o for o in tracker.orders.values() if o.status is OrderStatus.UNKNOWN]:
        match = next(
            (r for r in untracked if (r.side, r.price, r.size) == (order.side, order.price, order.size)),
            None,
        )
        if match is None:
            continue
        untracked.remove(match)
        out += tracker.adopt(order, match.order_idx, ts)
    return out


def _disagree(tracker: OrderTracker, order: TrackedOrder, detail: str) -> None:
    tracker.stats.state_disagreements += 1
    idx = order.order_idx
    log.error("ALERT: order %s (idx %s) disagrees with the contract: %s", order.client_id, idx, detail)
