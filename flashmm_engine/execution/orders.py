"""The order manager: our orders' state machine, diffing targets against them, acks that time out.

States: PENDING (sent, no ack) -> OPEN (acked) -> PARTIALLY_FILLED -> FILLED / CANCELLED / REJECTED /
EXPIRED. Terminal orders are dropped at once, so the book of orders holds only working ones (and is capped
by the risk gate's working-order limit). A batch is in flight from the moment it is built until the venue
has answered every place and cancel in it; while one is, the market sends no new batch of places.
An order (or cancel) the venue has not answered within `ack_timeout_ns` is reported for a venue query; the
answer (`on_query`) decides its state, never a guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from flashmm_engine.types import (
    NS_PER_S,
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    Quote,
    Reject,
    Side,
    WorkingOrder,
)

DEFAULT_ACK_TIMEOUT_NS = 2 * NS_PER_S


@dataclass(frozen=True, slots=True)
class Diff:
    """What it takes to turn the working orders into the targets: `keep` are left alone (queue kept)."""

    keep: tuple[WorkingOrder, ...]
    cancels: tuple[WorkingOrder, ...]
    places: tuple[Quote, ...]


class OrderManager:
    def __init__(self, market: str, ack_timeout_ns: int = DEFAULT_ACK_TIMEOUT_NS) -> None:
        self.market = market
        self.ack_timeout_ns = ack_timeout_ns
        self._orders: dict[str, WorkingOrder] = {}
        self._awaiting: dict[str, int] = {}
        """client id -> when the place or cancel that we await an answer for was sent."""
        self._queried: dict[str, int] = {}
        self.counts: Counter[str] = Counter()

    # --- reading ---

    def working(self) -> tuple[WorkingOrder, ...]:
        return tuple(self._orders.values())

    def get(self, client_id: str) -> WorkingOrder | None:
        return self._orders.get(client_id)

    @property
    def in_flight(self) -> bool:
        return bool(self._awaiting)

    # --- diffing ---

    def diff(self, targets: Sequence[Quote]) -> Diff:
        """Match each target to a working order on its side at its price (not being cancelled); the
        unmatched working orders are cancelled and the unmatched targets placed."""
        keep: list[WorkingOrder] = []
        places: list[Quote] = []
        free = [o for o in self._orders.values() if not o.cancel_sent]
        for quote in targets:
            match = next((o for o in free if o.side is quote.side and o.price == quote.price), None)
            if match is None:
                places.append(quote)
            else:
                keep.append(match)
                free.remove(match)
        return Diff(tuple(keep), tuple(free), tuple(places))

    # --- sending ---

    def placed(self, request: OrderRequest, level: int, now_ns: int) -> None:
        self._orders[request.client_id] = WorkingOrder(
            request.client_id,
            request.market,
            request.side,
            request.price,
            request.size,
            request.size,
            OrderStatus.PENDING,
            level,
            now_ns,
        )
        self._awaiting[request.client_id] = now_ns
        self.counts["placed"] += 1

    def cancel_requests(self, orders: Sequence[WorkingOrder], now_ns: int) -> tuple[CancelRequest, ...]:
        """Mark `orders` cancel-sent and return their cancel requests (skipping those already sent)."""
        out = []
        for order in orders:
            current = self._orders.get(order.client_id)
            if current is None or current.cancel_sent:
                continue
            self._orders[order.client_id] = replace(current, cancel_sent=True)
            self._awaiting[order.client_id] = now_ns
            out.append(CancelRequest(order.client_id, self.market))
        self.counts["cancels"] += len(out)
        return tuple(out)

    # --- venue answers ---

    def on_event(self, event: Ack | CancelAck | Reject | Fill) -> WorkingOrder | None:
        """Apply an answer; returns the order it concerned as it was before, or None for an unknown id."""
        order = self._orders.get(event.client_id)
        if order is None:
            self._awaiting.pop(event.client_id, None)
            self.counts["event_unknown_order"] += 1
            return None
        if isinstance(event, Ack):
            if order.status is OrderStatus.PENDING:
                self._orders[order.client_id] = replace(order, status=OrderStatus.OPEN)
            if not order.cancel_sent:
                self._answered(order.client_id)
        elif isinstance(event, Fill):
            remaining = max(order.remaining - event.size, 0)
            if remaining == 0:
                self._finish(order.client_id, OrderStatus.FILLED)
            else:
                self._orders[order.client_id] = replace(
                    order, remaining=remaining, status=OrderStatus.PARTIALLY_FILLED
                )
                if not order.cancel_sent:
                    self._answered(order.client_id)
        elif isinstance(event, CancelAck):
            self._finish(order.client_id, OrderStatus.CANCELLED)
        else:
            self._on_reject(order)
        return order

    def _on_reject(self, order: WorkingOrder) -> None:
        if order.status is OrderStatus.PENDING and not order.cancel_sent:
            self._finish(order.client_id, OrderStatus.REJECTED)
        elif order.status is OrderStatus.PENDING:
            # a reject while both the place and its cancel are unanswered: which one it answers is unknown
            self._awaiting[order.client_id] = -self.ack_timeout_ns  # due for a query at once
        else:
            # the venue refused to cancel a live order (it filled or expired meanwhile, or it refuses):
            # its state is asked from the venue, not assumed
            self._orders[order.client_id] = replace(order, cancel_sent=False)
            self._awaiting[order.client_id] = -self.ack_timeout_ns

    def _finish(self, client_id: str, status: OrderStatus) -> None:
        del self._orders[client_id]
        self._awaiting.pop(client_id, None)
        self._queried.pop(client_id, None)
        self.counts[status.value] += 1

    def _answered(self, client_id: str) -> None:
        self._awaiting.pop(client_id, None)
        self._queried.pop(client_id, None)

    # --- timeouts and queries ---

    def due_queries(self, now_ns: int) -> tuple[str, ...]:
        """Orders whose place or cancel went unanswered for `ack_timeout_ns` (reported once per timeout)."""
        due = []
        for client_id, sent in self._awaiting.items():
            last = self._queried.get(client_id, sent)
            if now_ns - last >= self.ack_timeout_ns:
                due.append(client_id)
        for client_id in due:
            self._queried[client_id] = now_ns
        self.counts["queries"] += len(due)
        return tuple(due)

    def on_query(self, client_id: str, found: OpenOrder | None) -> None:
        """The venue's answer about one order: open (with its fill state) or unknown to it."""
        order = self._orders.get(client_id)
        if order is None:
            return
        if found is None or found.status.is_terminal:
            status = OrderStatus.EXPIRED if found is None else found.status
            self._finish(client_id, status)
            return
        remaining = found.size - found.filled
        status = OrderStatus.PARTIALLY_FILLED if found.filled else OrderStatus.OPEN
        self._orders[client_id] = replace(order, remaining=remaining, status=status, cancel_sent=False)
        self._answered(client_id)

    def forget_all(self, status: OrderStatus) -> int:
        """The venue lost every order (a new venue session): finish them all as `status`; returns how many."""
        client_ids = list(self._orders)
        for client_id in client_ids:
            self._finish(client_id, status)
        return len(client_ids)

    def exposure(self, side: Side) -> int:
        return sum(o.remaining for o in self._orders.values() if o.side is side)
