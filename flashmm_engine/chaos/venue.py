"""The simulated venue of the chaos run: the sim matching engine under synthetic order flow, our account's
private events as one sequenced log, and one FIFO connection for our requests.

Faults on the venue side: a place refused for an outside reason, a taker filling part of an order just
before its cancel arrives, events emitted twice or out of order (each emitted event takes the next
sequence number, as the sim venue's log does: the client drops only re-deliveries of a sequence it saw).
Requests travel in order (one connection): a query never overtakes the place it asks about.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from flashmm_engine.chaos.faults import Faults
from flashmm_engine.types import (
    BookTop,
    CancelRequest,
    Fill,
    MarketSpec,
    OpenOrder,
    OrderRequest,
    RejectReason,
    Side,
    Trade,
    VenueEvent,
)
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import Events, MatchingEngine
from flashmm_engine.venues.sim.synthetic import SyntheticFlow, SyntheticParams

ACCOUNT = "chaos-mm"
FLOW_RATE_PER_S = 20.0
MAKER_FEE_PPM = -50
TAKER_FEE_PPM = 200
OPENING_QUOTE = 10**15
"""Our account's opening cash (notional units); margin trading: the risk gate, not the balance, limits us."""


@dataclass(frozen=True, slots=True)
class Query:
    """An order-state query the engine sent: answered with our open orders when it reaches the venue."""

    client_ids: tuple[str, ...]


Request = OrderRequest | CancelRequest | Query


@dataclass(frozen=True, slots=True)
class Answer:
    epoch: int
    client_ids: tuple[str, ...]
    open_orders: dict[str, OpenOrder]


class ChaosVenue:
    def __init__(self, spec: MarketSpec, faults: Faults, flow_seed: int, start_ns: int) -> None:
        self.spec = spec
        self.market = spec.symbol
        self.faults = faults
        market = SimMarket(spec, MAKER_FEE_PPM, TAKER_FEE_PPM, allow_short=True, check_quote=False)
        self.engine = MatchingEngine([market])
        self.engine.fund(ACCOUNT, self.market, quote=OPENING_QUOTE)
        self.flow = SyntheticFlow(
            self.engine, self.market, SyntheticParams(event_rate_per_s=FLOW_RATE_PER_S), flow_seed, start_ns
        )
        self.log: list[tuple[int, VenueEvent]] = []
        """(emitted at, event); event n has sequence n + 1."""
        self.fills: dict[str, Fill] = {}
        """Every distinct fill of our account, by fill id."""
        self.pipe: deque[tuple[int, int, Request]] = deque()
        """(arrival time, connection epoch, request), in sending order."""
        self.answers: deque[Answer] = deque()
        self.trades: list[Trade] = []

    # --- reading ---

    @property
    def seq(self) -> int:
        return len(self.log)

    def position(self) -> int:
        return self.engine.balance(ACCOUNT, self.market).base

    def cash(self) -> int:
        return self.engine.balance(ACCOUNT, self.market).quote

    def open_orders(self) -> list[OpenOrder]:
        return self.engine.open_orders(ACCOUNT, self.market)

    def top(self) -> BookTop | None:
        bid, ask = self.engine.best_bid(self.market), self.engine.best_ask(self.market)
        if bid is None or ask is None:
            return None
        size = self.engine.level_size
        return BookTop(bid, size(self.market, Side.BUY, bid), ask, size(self.market, Side.SELL, ask))

    # --- the connection ---

    def send(self, request: Request, arrival_ns: int, epoch: int) -> None:
        last = self.pipe[-1][0] if self.pipe else arrival_ns
        self.pipe.append((max(arrival_ns, last), epoch, request))

    def drop_in_flight(self) -> int:
        """The connection broke: each request still in flight is lost or not (it may have been read)."""
        kept = [r for r in self.pipe if not self.faults.draw("request_lost", self.faults.rates.request_lost)]
        lost = len(self.pipe) - len(kept)
        self.pipe = deque(kept)
        return lost

    def cancel_now(self, request: CancelRequest, ts: int) -> None:
        """A cancel the engine's start-up reconciliation sends and waits for (it cannot be lost)."""
        self._cancel(request, ts)

    # --- time ---

    def advance(self, now_ns: int) -> None:
        """Run the synthetic flow and the requests that arrive, in time order, up to `now_ns`."""
        while True:
            t_flow = self.flow.next_time()
            t_req = self.pipe[0][0] if self.pipe else now_ns + 1
            if min(t_flow, t_req) > now_ns:
                break
            if t_req <= t_flow:
                _, epoch, request = self.pipe.popleft()
                self._arrive(request, t_req, epoch)
            else:
                self._emit_ours(self.flow.step(), t_flow)
        self.trades += self.engine.take_public_trades()

    def take_trades(self) -> list[Trade]:
        trades, self.trades = self.trades, []
        return trades

    def _arrive(self, request: Request, ts: int, epoch: int) -> None:
        if isinstance(request, Query):
            found = {o.client_id: o for o in self.open_orders()}
            self.answers.append(Answer(epoch, request.client_ids, found))
        elif isinstance(request, CancelRequest):
            self._cancel(request, ts)
        elif self.faults.draw("reject", self.faults.rates.reject):
            self._emit(self.engine.reject(ACCOUNT, request, RejectReason.VENUE_ERROR, "chaos", ts), ts)
        else:
            self._emit(self.engine.submit(ACCOUNT, request, ts), ts)

    def _cancel(self, request: CancelRequest, ts: int) -> None:
        resting = self.engine.order(ACCOUNT, request.client_id)
        events: Events = []
        if resting is not None and self.faults.draw("fill_races_cancel", self.faults.rates.fill_races_cancel):
            size = self.faults.rng.randint(1, resting.remaining)
            events += self.engine.fill_resting(resting.venue_order_id, size, ts)
        events += self.engine.cancel(ACCOUNT, request, ts)
        self._emit(events, ts)

    def _emit_ours(self, events: Events, ts: int) -> None:
        ours = [(a, e) for a, e in events if a == ACCOUNT]
        if ours:
            self._emit(ours, ts)

    def _emit(self, events: Events, ts: int) -> None:
        group = [e for a, e in events if a == ACCOUNT]
        if len(group) > 1 and self.faults.draw("event_reorder", self.faults.rates.event_reorder):
            self.faults.rng.shuffle(group)
        for event in group:
            if isinstance(event, Fill):
                self.fills[event.fill_id] = event
            self.log.append((ts, event))
            if self.faults.draw("event_duplicate", self.faults.rates.event_duplicate):
                self.log.append((ts, event))
