"""A fixed-spread market maker: the reference strategy of the backtester and the peer cross-check.

Every decision (5 Hz by default) it quotes one post-only order per side, `half_spread_ticks` from the mid,
shifted against its inventory, never inside the touch; stale quotes are cancelled and replaced in the same
decision; a side is pulled when the position cap is reached on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashmm_engine.service.clock import Clock
from flashmm_engine.strategy.base import OrderSink
from flashmm_engine.strategy.orders import OrderTracker
from flashmm_engine.types import (
    NS_PER_MS,
    BookTop,
    CancelRequest,
    OrderRequest,
    Side,
    TimeInForce,
    VenueEvent,
)


@dataclass(frozen=True, slots=True)
class FixedSpreadParams:
    market: str
    half_spread_ticks: int = 5
    order_size: int = 1
    max_position: int = 10
    skew_ticks_per_order: int = 1
    """Quotes move this many ticks against each `order_size` of inventory."""
    decision_interval_ms: int = 200
    client_prefix: str = "fx-"


class FixedSpreadStrategy:
    def __init__(self, params: FixedSpreadParams) -> None:
        self.params = params
        self.decision_interval_ns = params.decision_interval_ms * NS_PER_MS
        self.tracker = OrderTracker(params.client_prefix)
        self.decisions = 0
        self._clock: Clock | None = None
        self._sink: OrderSink | None = None

    def bind(self, clock: Clock, sink: OrderSink) -> None:
        self._clock = clock
        self._sink = sink

    def on_event(self, event: VenueEvent) -> None:
        self.tracker.on_event(event)

    def decide(self, top: BookTop | None) -> None:
        self.decisions += 1
        if top is None or self._sink is None:
            return
        bid, ask = self.quotes(top, self.tracker.position)
        cap = self.params.max_position
        self._requote(Side.BUY, bid if self.tracker.position < cap else None)
        self._requote(Side.SELL, ask if self.tracker.position > -cap else None)

    def quotes(self, top: BookTop, position: int) -> tuple[int, int]:
        p = self.params
        mid2 = top.bid_price + top.ask_price  # twice the mid, so it stays an integer
        skew = -(position * p.skew_ticks_per_order) // p.order_size
        bid = (mid2 - 2 * p.half_spread_ticks) // 2 + skew
        ask = -((-(mid2 + 2 * p.half_spread_ticks)) // 2) + skew
        return min(bid, top.bid_price), max(ask, top.ask_price)

    def _requote(self, side: Side, price: int | None) -> None:
        assert self._sink is not None
        keep = False
        stale: list[CancelRequest] = []
        for order in self.tracker.working(side):
            if order.request.price == price and not keep:
                keep = True
                continue
            order.cancel_sent = True
            stale.append(CancelRequest(order.request.client_id, self.params.market))
        if stale:
            self._sink.cancel(stale)
        if price is not None and not keep:
            self._place(side, price)

    def _place(self, side: Side, price: int) -> None:
        assert self._sink is not None
        request = OrderRequest(
            self.tracker.next_client_id(),
            self.params.market,
            side,
            price,
            self.params.order_size,
            TimeInForce.POST_ONLY,
        )
        self.tracker.sent(request)
        self._sink.place((request,))
