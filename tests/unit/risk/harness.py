"""A trading core against a toy venue whose messages take a random number of steps to arrive, so a test can
compare what the core believes with what is true at the venue at every step."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from flashmm_engine.execution.client_ids import ClientIdSource, MemorySequenceStore
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.risk.limits import RiskLimits
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import (
    Ack,
    BookTop,
    CancelAck,
    CancelRequest,
    FeedView,
    Fill,
    Liquidity,
    MarketSpec,
    MarketView,
    OrderRequest,
    Quote,
    QuoteBatch,
    Reject,
    RejectReason,
    Side,
    TargetQuotes,
    Trade,
    VenueEvent,
)

MARKET = "M"
SPEC = MarketSpec(MARKET, Decimal("0.01"), Decimal("0.1"))


class ScriptedQuoter:
    """Returns whatever the test put in `next_quotes` (relative to the mid): the gate, not the quoter, has to
    keep the core within its limits."""

    def __init__(self) -> None:
        self.next_quotes: list[tuple[Side, int, int]] = []  # side, ticks away from the mid, size

    def on_market_trade(self, trade: Trade, mid_x2: int | None) -> None:
        """Not used."""

    def quote(self, view: MarketView) -> TargetQuotes:
        assert view.top is not None
        mid = view.top.mid_x2 // 2
        quotes = tuple(
            Quote(side, mid - side.sign * max(away, 1), size, i)
            for i, (side, away, size) in enumerate(self.next_quotes)
        )
        return TargetQuotes(MARKET, quotes)


@dataclass
class VenueOrder:
    request: OrderRequest
    remaining: int


@dataclass
class ToyVenue:
    """Truth: resting orders and the position. Requests and answers travel through FIFO pipes and are
    moved one at a time by `deliver_request` / `deliver_answer`."""

    position: int = 0
    live: dict[str, VenueOrder] = field(default_factory=dict)
    to_venue: deque[OrderRequest | CancelRequest] = field(default_factory=deque)
    to_core: deque[VenueEvent] = field(default_factory=deque)
    fills: int = 0
    known: set[str] = field(default_factory=set)

    def send(self, batch: QuoteBatch) -> None:
        self.to_venue.extend(batch.cancels)
        self.to_venue.extend(batch.places)

    def deliver_request(self, reject_it: bool) -> None:
        if not self.to_venue:
            return
        request = self.to_venue.popleft()
        if isinstance(request, OrderRequest):
            self.known.add(request.client_id)
            if reject_it:
                self.to_core.append(Reject(request.client_id, RejectReason.POST_ONLY_WOULD_CROSS, "x", 0))
            else:
                self.live[request.client_id] = VenueOrder(request, request.size)
                self.to_core.append(Ack(request.client_id, request.client_id, 0))
        elif request.client_id in self.live:
            order = self.live.pop(request.client_id)
            self.to_core.append(CancelAck(request.client_id, 0, order.remaining))
        else:
            self.to_core.append(Reject(request.client_id, RejectReason.UNKNOWN_ORDER, "gone", 0))

    def fill(self, pick: int, fraction: float) -> None:
        if not self.live:
            return
        client_id = sorted(self.live)[pick % len(self.live)]
        order = self.live[client_id]
        size = max(1, round(order.remaining * fraction))
        order.remaining -= size
        self.position += order.request.side.sign * size
        self.fills += 1
        req = order.request
        self.to_core.append(
            Fill(
                f"f{self.fills}",
                client_id,
                client_id,
                MARKET,
                req.side,
                req.price,
                size,
                0,
                Liquidity.MAKER,
                0,
                order.remaining,
            )
        )
        if order.remaining == 0:
            del self.live[client_id]

    def deliver_answer(self, core: TradingCore) -> None:
        if self.to_core:
            core.on_venue_event(self.to_core.popleft())

    def worst_case(self, side: Side) -> int:
        """The position if every order of ours on `side` (resting or on its way) filled."""
        resting = sum(o.remaining for o in self.live.values() if o.request.side is side)
        travelling = sum(r.size for r in self.to_venue if isinstance(r, OrderRequest) and r.side is side)
        return self.position + side.sign * (resting + travelling)


def make_core(limits: RiskLimits, clock: ManualClock) -> tuple[TradingCore, ScriptedQuoter]:
    quoter = ScriptedQuoter()
    core = TradingCore(
        SPEC,
        clock,
        quoter,
        RiskGate(limits, clock.now_ns()),
        OrderManager(MARKET, ack_timeout_ns=10**15),
        ClientIdSource("t", MemorySequenceStore()),
    )
    return core, quoter


def feed(mid: int, now: int, book_ts: int | None = None, synced: bool = True) -> FeedView:
    return FeedView(
        MARKET,
        now,
        BookTop(mid - 1, 10, mid + 1, 10),
        book_ts_ns=now if book_ts is None else book_ts,
        synced=synced,
    )
