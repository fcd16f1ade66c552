"""The time machinery shared by every backtest mode: order latency, response latency, decision cycles.

The session drives the trading core (execution/core.py), the very object the live engine runs: each cycle
it asks the feed for the core's `FeedView`, runs `core.cycle`, and sends the batch. Requests sent at local
time t reach the exchange at t + order latency; the exchange's answers reach the core after the response
latency. Everything happens in time order; at equal times: arrivals at the exchange, then responses, then
observations, then the cycle. With a feed latency L the core decides at t on the market as it was at t - L.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import Protocol

from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import CancelRequest, FeedView, OrderRequest, VenueEvent
from flashmm_engine.venues.sim.exchange import Exchange
from flashmm_engine.venues.sim.latency import Latency
from flashmm_engine.venues.sim.matching import Events

NEVER = 2**63 - 1


class BacktestFeed(Protocol):
    """The core's market data in a backtest: `observe(ts)` takes in everything received up to ts,
    `view(ts_observed, now)` is the `FeedView` built from it."""

    def observe(self, ts_ns: int) -> None: ...

    def view(self, now_ns: int) -> FeedView: ...


class Session:
    def __init__(
        self,
        exchange: Exchange,
        core: TradingCore,
        feed: BacktestFeed,
        account: str,
        order_latency: Latency,
        response_latency: Latency,
        report: BacktestReport,
        clock: ManualClock,
        interval_ns: int,
        feed_latency: Latency | None = None,
        start_ns: int | None = None,
        schedule: Iterator[int] | None = None,
    ) -> None:
        """Cycles run every `interval_ns` from `start_ns`, or at the times `schedule` yields (e.g. the cycle
        times of a live run, to reproduce it)."""
        self.exchange = exchange
        self.core = core
        self.feed = feed
        self.account = account
        self.order_latency = order_latency
        self.response_latency = response_latency
        self.feed_latency = feed_latency
        self.report = report
        self.clock = clock
        self.interval_ns = interval_ns
        self.schedule = schedule
        self.queries_answered = 0
        self._arrivals: list[tuple[int, int, OrderRequest | CancelRequest]] = []
        self._responses: list[tuple[int, int, VenueEvent]] = []
        self._tiebreak = itertools.count()
        self.next_decision = NEVER
        self.next_observe = NEVER
        start = clock.now_ns() if start_ns is None else start_ns
        first = next(schedule, NEVER) if schedule is not None else start + interval_ns  # after one interval
        self._schedule_decision(first, clock.now_ns())
        self.next_wake = min(self.next_observe, self.next_decision)

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
        """Run every arrival, response, observation and cycle due at or before `now`, in time order."""
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
                self.core.on_venue_event(heapq.heappop(responses)[2])
            elif self.next_observe == t_next:
                self.feed.observe(t_next)
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
        """The feed is observed at `at - L` (never before the previous cycle: latencies above the cycle
        interval are capped), or at `at` itself without feed latency."""
        self.next_decision = at
        if at == NEVER:
            self.next_observe = NEVER
            return
        delay = self.feed_latency.draw_ns() if self.feed_latency is not None else 0
        self.next_observe = max(now, at - delay)

    def _decide(self, ts: int) -> None:
        self.report.on_decision(ts, self.exchange.top())  # marks use the true book
        batch = self.core.cycle(self.feed.view(ts), ts)
        for cancel in batch.cancels:
            self._send(cancel)
        for order in batch.places:
            self._send(order)
        for client_id in batch.queries:  # the venue's answer, straight from the matching engine
            found = next(
                (o for o in self.exchange.engine.open_orders(self.account) if o.client_id == client_id), None
            )
            self.core.on_order_query(client_id, found)
            self.queries_answered += 1
        at = next(self.schedule, NEVER) if self.schedule is not None else ts + self.interval_ns
        self._schedule_decision(at, ts)
