"""The strategy interface. Clock and order sink are injected, so one strategy object runs unchanged in the
backtester, in paper trading against the sim venue and in the live engine.

A strategy submits through an `OrderSink` (submission only: outcomes come back through `on_event`) and is
asked to decide every `decision_interval_ns` with the current top of book.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flashmm_engine.service.clock import Clock
from flashmm_engine.types import BookTop, CancelRequest, OrderRequest, VenueEvent


class OrderSink(Protocol):
    """Where a strategy sends orders. The backtester's sink adds order latency; a live one wraps a Venue."""

    def place(self, orders: Sequence[OrderRequest]) -> None: ...

    def cancel(self, cancels: Sequence[CancelRequest]) -> None: ...


class Strategy(Protocol):
    decision_interval_ns: int

    def bind(self, clock: Clock, sink: OrderSink) -> None:
        """Inject the clock and the order sink before the first decision."""

    def on_event(self, event: VenueEvent) -> None:
        """An ack, reject or fill for one of our orders, as the strategy's side of the wire sees it."""

    def decide(self, top: BookTop | None) -> None:
        """One decision; `top` is None while the book is one-sided or empty."""
