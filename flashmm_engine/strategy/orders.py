"""The strategy's own view of its orders and position, built only from venue events."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from flashmm_engine.types import Ack, CancelAck, Fill, OrderRequest, Reject, Side, VenueEvent

MAX_SEEN_FILLS = 100_000
"""Fill ids remembered for deduplication, most recent first kept; venues redeliver recent fills only."""


@dataclass(slots=True)
class LiveOrder:
    request: OrderRequest
    acked: bool = False
    cancel_sent: bool = False
    remaining: int = 0


class OrderTracker:
    """Orders we sent that are not known to be finished, plus the position our fills add up to."""

    def __init__(self, client_prefix: str) -> None:
        self._prefix = client_prefix
        self._seq = 0
        self.orders: dict[str, LiveOrder] = {}
        self.position = 0
        self.fills = 0
        self.rejects = 0
        self._seen_fills: OrderedDict[str, None] = OrderedDict()

    def next_client_id(self) -> str:
        """Deterministic ids: the same run sends the same ids, so a venue can deduplicate a replay."""
        self._seq += 1
        return f"{self._prefix}{self._seq}"

    def sent(self, request: OrderRequest) -> None:
        self.orders[request.client_id] = LiveOrder(request, remaining=request.size)

    def on_event(self, event: VenueEvent) -> None:
        order = self.orders.get(event.client_id)
        if isinstance(event, Fill):
            if event.fill_id in self._seen_fills:
                self._seen_fills.move_to_end(event.fill_id)
                return
            self._seen_fills[event.fill_id] = None
            if len(self._seen_fills) > MAX_SEEN_FILLS:
                self._seen_fills.popitem(last=False)
            self.position += event.side.sign * event.size
            self.fills += 1
            if order is not None:
                order.remaining = event.remaining
                if event.remaining == 0:
                    del self.orders[event.client_id]
        elif isinstance(event, Ack):
            if order is not None:
                order.acked = True
        elif isinstance(event, CancelAck):
            self.orders.pop(event.client_id, None)
        elif isinstance(event, Reject):
            self.rejects += 1
            if order is not None and not order.acked and not order.cancel_sent:
                del self.orders[event.client_id]

    def working(self, side: Side) -> list[LiveOrder]:
        """Orders on `side` that we have not asked to cancel."""
        return [o for o in self.orders.values() if o.request.side is side and not o.cancel_sent]
