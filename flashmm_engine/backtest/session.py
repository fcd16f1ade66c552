"""The time machinery shared by every backtest mode: order latency, response latency, decisions.

Requests a strategy sends at local time t reach the exchange at t + order latency; the exchange's answers
(acks, rejects, fills) reach the strategy after the response latency. Everything happens in time order;
at equal times: arrivals at the exchange, then responses, then the decision.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from typing import Protocol

from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.strategy.base import Strategy
from flashmm_engine.types import BookTop, CancelRequest, OrderRequest, VenueEvent
from flashmm_engine.venues.sim.latency import Latency
from flashmm_engine.venues.sim.matching import Events

NEVER = 2**63 - 1


class Exchange(Protocol):
    """What the session needs from a market mode (ReplayMarket, SyntheticMarket)."""

    def submit(self, account: str, req: OrderRequest, ts: int) -> Events: ...

    def cancel(self, account: str, req: CancelRequest, ts: int) -> Events: ...

    def top(self) -> BookTop | None: ...


class Session:
    def __init__(
        self,
        exchange: Exchange,
        strategy: Strategy,
        account: str,
        order_latency: Latency,
        response_latency: Latency,
        report: BacktestReport,
        start_ns: int,
        feed_latency: Latency | None = None,
    ) -> None:
        self.exchange = exchange
        self.feed_latency = feed_latency
        self.strategy = strategy
        self.account = account
        self.order_latency = order_latency
        self.response_latency = response_latency
        self.report = report
        self.clock = ManualClock(start_ns)
        self._arrivals: list[tuple[int, int, OrderRequest | CancelRequest]] = []
        self._responses: list[tuple[int, int, VenueEvent]] = []
        self._tiebreak = itertools.count()
        self.next_decision = NEVER
        self.next_observe = NEVER
        self._observed: BookTop | None = None
        self._schedule_decision(start_ns + strategy.decision_interval_ns, start_ns)  # after one interval
        self.next_wake = start_ns
        strategy.bind(self.clock, self)

    # OrderSink, used by the strategy
    def place(self, orders: Sequence[OrderRequest]) -> None:
        for order in orders:
            self._send(order)

    def cancel(self, cancels: Sequence[CancelRequest]) -> None:
        for cancel in cancels:
            self._send(cancel)

    def _send(self, request: OrderRequest | CancelRequest) -> None:
        arrival = self.clock.now_ns() + self.order_latency.draw_ns()
        heapq.heappush(self._arrivals, (arrival, next(self._tiebreak), request))
        self.next_wake = min(self.next_wake, arrival)
        self.report.on_request(request)

    def on_exchange_events(self, events: Events, ts: int) -> None:
        for account, event in events:
            if account != self.account:
                continue
            self.report.on_event(event)
            delivery = ts + self.response_latency.draw_ns()
            heapq.heappush(self._responses, (delivery, next(self._tiebreak), event))
            self.next_wake = min(self.next_wake, delivery)

    def advance(self, now: int) -> None:
        """Run every arrival, response and decision due at or before `now`, in time order."""
        arrivals, responses = self._arrivals, self._responses
        while True:
            t_arrival = arrivals[0][0] if arrivals else NEVER
            t_response = responses[0][0] if responses else NEVER
            t_next = min(t_arrival, t_response, self.next_observe, self.next_decision)
            if t_next > now:
                break
            self.clock.advance_to(t_next)
            if t_arrival == t_next:
                self._arrive(heapq.heappop(arrivals)[2], t_next)
            elif t_response == t_next:
                self.strategy.on_event(heapq.heappop(responses)[2])
            elif self.next_observe == t_next:
                self._observed = self.exchange.top()
                self.next_observe = NEVER
            else:
                self._decide(t_next)
        self.next_wake = min(
            arrivals[0][0] if arrivals else NEVER,
            responses[0][0] if responses else NEVER,
            self.next_observe,
            self.next_decision,
        )

    def _arrive(self, request: OrderRequest | CancelRequest, ts: int) -> None:
        if isinstance(request, OrderRequest):
            events = self.exchange.submit(self.account, request, ts)
        else:
            events = self.exchange.cancel(self.account, request, ts)
        self.on_exchange_events(events, ts)

    def _schedule_decision(self, at: int, now: int) -> None:
        """With feed latency L the strategy decides at `at` on the book as it was at `at - L` (never
        earlier than the previous decision: latencies above the decision interval are capped)."""
        self.next_decision = at
        if self.feed_latency is not None:
            self.next_observe = max(now, at - self.feed_latency.draw_ns())

    def _decide(self, ts: int) -> None:
        top = self.exchange.top()
        self.report.on_decision(ts, top)  # marks use the true book; the strategy sees its delayed view
        self.strategy.decide(top if self.feed_latency is None else self._observed)
        self._schedule_decision(ts + self.strategy.decision_interval_ns, ts)
