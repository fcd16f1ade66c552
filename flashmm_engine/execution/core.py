"""The trading core: one object per market, shared by the live engine, paper trading and the backtester.

Each cycle the caller (runtime task or backtest session) hands over a `FeedView`; the core adds its own
inventory, working orders and risk state to make the `MarketView`, asks the quoter for targets, lets the risk
gate screen them, diffs them against the working orders, has the gate approve each new order, and returns
one `QuoteBatch` for the caller to send. Venue answers come back through `on_venue_event` (after the ledger
made a fill durable). The clock and venue are the caller's: the core does no I/O.

At most one batch is in flight per market: while the venue has not answered every place and cancel of the
last batch, a cycle sends nothing, except cancels when risk pulled every quote (stale feed, HALTED): those
can only shrink exposure, so they never wait.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flashmm_engine.execution.client_ids import ClientIdSource
from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.service.clock import Clock
from flashmm_engine.strategy.quoter import Quoter
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import (
    NOTIONAL_SCALE,
    Ack,
    CancelAck,
    FeedView,
    Fill,
    MarketSpec,
    MarketView,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    QuoteBatch,
    Reject,
    RiskState,
    TargetQuotes,
    TimeInForce,
    Trade,
    TradingState,
    WorkingOrder,
)

log = logging.getLogger(__name__)

SEEN_FILLS_CAP = 10_000
"""Fill ids remembered for de-duplication (the ledger keeps them all; this only guards the hot path)."""


@dataclass
class CoreMetrics:
    """Counters the status and metrics endpoints (and the backtest report) read."""

    cycles: int = 0
    model_cycles: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    fills: int = 0
    duplicate_fills: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    busy_cycles: int = 0
    """Cycles whose new orders waited because the previous batch was still unanswered."""
    quoter_errors: int = 0


class TradingCore:
    def __init__(
        self,
        spec: MarketSpec,
        clock: Clock,
        quoter: Quoter,
        risk: RiskGate,
        orders: OrderManager,
        ids: ClientIdSource,
        tif: TimeInForce = TimeInForce.POST_ONLY,
        on_targets: Callable[[int, TargetQuotes], None] | None = None,
    ) -> None:
        """`on_targets(now_ns, targets)` sees every cycle's quoter output (audit logs, shadow comparison)."""
        if orders.market != spec.symbol:
            raise ValueError(f"order manager is for {orders.market}, the core for {spec.symbol}")
        self.spec = spec
        self.market = spec.symbol
        self.clock = clock
        self.quoter = quoter
        self.risk = risk
        self.orders = orders
        self.ids = ids
        self.tif = tif
        self.on_targets = on_targets
        self.position = 0
        self.cash = 0
        """Notional units, fees included; with the position it gives mark-to-market equity."""
        self.metrics = CoreMetrics()
        self.bad_input = BadInputCounter(log)
        self.last_targets: TargetQuotes | None = None
        self._seen_fills: OrderedDict[str, None] = OrderedDict()
        self._rejects_in_row = 0

    # --- reading ---

    def working_orders(self) -> tuple[WorkingOrder, ...]:
        return self.orders.working()

    @property
    def state(self) -> RiskState:
        return self.risk.state

    def view(self, feed: FeedView, now_ns: int) -> MarketView:
        return MarketView(feed, now_ns, self.position, self.orders.working(), self.risk.state)

    def status(self) -> dict[str, Any]:
        m, targets = self.metrics, self.last_targets
        return {
            "market": self.market,
            "state": self.risk.state.state.value,
            "state_reason": self.risk.state.reason,
            "state_since_ns": self.risk.state.since_ns,
            "position_lots": self.position,
            "working_orders": len(self.orders.working()),
            "cycles": m.cycles,
            "model_cycles": m.model_cycles,
            "fallbacks": dict(m.fallbacks),
            "last_fallback": targets.fallback if targets else None,
            "fills": m.fills,
            "duplicate_fills": m.duplicate_fills,
            "rejects": dict(m.rejects),
            "refusals": dict(self.risk.refusals),
            "bad_input": dict(self.bad_input.counts),
            "orders": dict(self.orders.counts),
        }

    # --- control ---

    def halt(self, reason: str) -> None:
        """Stop quoting: the next cycle cancels every working order and places none."""
        self.risk.set_state(TradingState.HALTED, reason, self.clock.now_ns())

    def reduce_only(self, reason: str) -> None:
        self.risk.escalate(TradingState.REDUCING, reason, self.clock.now_ns())

    def resume(self, reason: str) -> None:
        self.risk.set_state(TradingState.ACTIVE, reason, self.clock.now_ns())

    def kill(self, reason: str = "kill_switch") -> QuoteBatch:
        """The kill switch: halt, and cancel every working order now (the batch goes out regardless of one in
        flight: cancels can only shrink exposure)."""
        self.halt(reason)
        cancels = self.orders.cancel_requests(self.orders.working(), self.clock.now_ns())
        return QuoteBatch(self.market, cancels=cancels)

    def venue_session_ended(self, reason: str) -> int:
        """The venue restarted: halt, and drop every working order (gone with its session, none to cancel).
        Returns how many were dropped."""
        self.halt(reason)
        return self.orders.forget_all(OrderStatus.EXPIRED)

    def sync_inventory(self, position: int, cash: int) -> None:
        """Take position (lots) and cash (notional units) from the ledger after reconciliation."""
        self.position, self.cash = position, cash

    # --- venue events ---

    def on_venue_event(self, event: object) -> None:
        """An ack, cancel ack, reject or fill for one of our orders. A fill must be durable (ledger) before it
        is handed over. Malformed events are counted and, where they could hide a fill, halt the market."""
        if isinstance(event, Fill):
            self._on_fill(event)
        elif isinstance(event, Ack | CancelAck):
            self._rejects_in_row = 0 if isinstance(event, Ack) else self._rejects_in_row
            self.orders.on_event(event)
        elif isinstance(event, Reject):
            self._on_reject(event)
        else:
            self.bad_input.record("malformed_venue_event", f"{type(event).__name__}: {event!r}"[:200])

    def _on_fill(self, fill: Fill) -> None:
        if fill.market != self.market:
            self.bad_input.record("fill_unknown_market", f"fill {fill.fill_id} for {fill.market}")
            return
        if fill.size <= 0 or fill.price <= 0 or fill.remaining < 0:
            self.bad_input.record("malformed_fill", repr(fill))
            self.halt("malformed_fill")  # the position can no longer be trusted
            return
        if fill.fill_id in self._seen_fills:
            self.metrics.duplicate_fills += 1
            return
        self._seen_fills[fill.fill_id] = None
        if len(self._seen_fills) > SEEN_FILLS_CAP:
            self._seen_fills.popitem(last=False)
        self._rejects_in_row = 0
        self.metrics.fills += 1
        signed = fill.side.sign * fill.size
        self.position += signed
        self.cash -= signed * fill.price * NOTIONAL_SCALE + fill.fee
        if self.orders.on_event(fill) is None:
            self.bad_input.record("fill_unknown_order", f"fill {fill.fill_id} for {fill.client_id}")

    def _on_reject(self, reject: Reject) -> None:
        self.metrics.rejects[reject.reason.value] += 1
        self._rejects_in_row += 1
        self.orders.on_event(reject)
        if self._rejects_in_row >= self.risk.limits.reject_storm:
            self.risk.escalate(TradingState.HALTED, "reject_storm", self.clock.now_ns())

    def on_market_trade(self, trade: Trade, mid_x2: int | None) -> None:
        if trade.market == self.market:
            self.quoter.on_market_trade(trade, mid_x2)

    def on_order_query(self, client_id: str, found: OpenOrder | None) -> None:
        """The venue's answer to a query the last batch asked for (`QuoteBatch.queries`)."""
        self.orders.on_query(client_id, found)

    # --- the cycle ---

    def cycle(self, feed: FeedView, now_ns: int) -> QuoteBatch:
        if feed.market != self.market:
            self.bad_input.record("unknown_market", f"cycle for {feed.market} on the {self.market} core")
            return QuoteBatch(feed.market)
        m = self.metrics
        m.cycles += 1
        if feed.top is not None:
            self.risk.on_equity(self.cash + self.position * feed.top.mid_x2 * NOTIONAL_SCALE // 2, now_ns)
        view = self.view(feed, now_ns)
        queries = self.orders.due_queries(now_ns)
        targets = self._targets(view)
        if targets.model_used:
            m.model_cycles += 1
        elif targets.fallback is not None:
            m.fallbacks[targets.fallback] += 1
        screened = self.risk.screen(view, targets.quotes)
        diff = self.orders.diff(screened)
        busy = self.orders.in_flight
        if busy and (screened or not diff.cancels):
            m.busy_cycles += 1
            return QuoteBatch(self.market, queries=queries)
        cancels = self.orders.cancel_requests(diff.cancels, now_ns)
        places = []
        if not busy:
            for quote in self.risk.approve(view, diff.places):
                request = OrderRequest(
                    self.ids.next_id(), self.market, quote.side, quote.price, quote.size, self.tif
                )
                self.orders.placed(request, quote.level, now_ns)
                places.append(request)
        batch = QuoteBatch(self.market, cancels, tuple(places), queries)
        if not batch.empty:
            m.batches += 1
        return batch

    def _targets(self, view: MarketView) -> TargetQuotes:
        try:
            targets = self.quoter.quote(view)
        except (ArithmeticError, ValueError) as exc:
            self.metrics.quoter_errors += 1
            self.bad_input.record("quoter_error", f"{type(exc).__name__}: {exc}")
            return TargetQuotes(self.market, (), fallback="quoter_error")
        if any(not math.isfinite(q.price) or not math.isfinite(q.size) for q in targets.quotes):
            self.bad_input.record("quoter_nonfinite", repr(targets))
            return TargetQuotes(self.market, (), fallback="quoter_nonfinite")
        self.last_targets = targets
        if self.on_targets is not None:
            self.on_targets(view.now_ns, targets)
        return targets
