"""One life of the engine in the chaos run: the trading core the live engine builds (execution/wiring.py),
fed the venue's private events the way engine/market_task.py feeds them (a fill is committed to the
ledger first and reaches the core only if the ledger took it as new), and started the way
engine/reconcile.py starts a market: holdings from the ledger, events since the ledger's cursor replayed
into it, every open order of ours cancelled, ledger and venue compared, inventory synced, then quoting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flashmm_engine.chaos.venue import Answer, ChaosVenue, Query
from flashmm_engine.config.trading import QuotingSettings, RiskSettings
from flashmm_engine.engine.links import AccountView
from flashmm_engine.engine.market_task import AppliedState
from flashmm_engine.engine.reconcile import cancel_kind, difference, synced_inventory
from flashmm_engine.execution.client_ids import ClientIdSource
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.execution.wiring import core_from_settings
from flashmm_engine.ledger.store import Holdings, Ledger
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import CancelRequest, FeedView, Fill, QuoteBatch, VenueEvent

INSTANCE_ID = "chaos"


@dataclass
class LifeStats:
    fills_recorded: int = 0
    duplicate_fills: int = 0
    send_failed: int = 0
    query_failed: int = 0
    orphans_cancelled: int = 0
    stale_cancelled: int = 0
    start_problems: list[str] = field(default_factory=list)


class EngineLife:
    def __init__(
        self,
        venue: ChaosVenue,
        ledger: Ledger,
        clock: ManualClock,
        quoting: QuotingSettings,
        risk: RiskSettings,
    ) -> None:
        self.venue = venue
        self.ledger = ledger
        self.clock = clock
        self.venue_id = f"sim/{venue.market}"
        self.core: TradingCore = core_from_settings(
            venue.spec, clock, quoting, risk, ClientIdSource(INSTANCE_ID, ledger), with_model=False
        )
        self.ready = False
        self.applied_seq = 0
        self._cursor = 0
        """The ledger's cursor as last written."""
        self.holdings: Holdings | None = None
        self.stats = LifeStats()
        self.epoch = 0
        """Which connection this life's requests travel on (answers to an older one are lost)."""

    # --- start: fail closed until the ledger and the venue agree ---

    def start(self, epoch: int) -> None:
        self.epoch = epoch
        ledger, venue = self.ledger, self.venue
        held = ledger.holdings(self.venue_id, venue.market)
        if held is None:
            ledger.open_market(
                self.venue_id, venue.market, venue.position(), venue.cash(), self.clock.now_ns()
            )
            ledger.set_cursor(INSTANCE_ID, self.venue_id, venue.seq)
            held = ledger.holdings(self.venue_id, venue.market)
            assert held is not None
        self.holdings = held
        self.applied_seq = self._cursor = ledger.cursor(INSTANCE_ID, self.venue_id)
        self.deliver_all()
        self._cancel_our_open_orders()
        self.deliver_all()
        problem = difference(
            AccountView(venue.seq, venue.position(), venue.cash()),
            AppliedState(self.applied_seq, self.holdings.book.position, self.holdings.cash),
        )
        if problem is not None:
            self.stats.start_problems.append(problem)
            self.core.halt(f"reconcile: {problem}")
        self.core.sync_inventory(*synced_inventory(self.holdings))
        self.ready = True

    def _cancel_our_open_orders(self) -> None:
        ours = [o for o in self.venue.open_orders() if self.core.ids.owns(o.client_id)]
        known = self.ledger.known_orders([o.client_id for o in ours])
        for order in ours:
            if cancel_kind(order.client_id, known) == "orphan_order_cancelled":
                self.stats.orphans_cancelled += 1
            else:
                self.stats.stale_cancelled += 1
            self.venue.cancel_now(CancelRequest(order.client_id, self.venue.market), self.clock.now_ns())

    # --- private events, in sequence ---

    def deliver_all(self) -> None:
        while self.applied_seq < self.venue.seq:
            self.on_event(self.applied_seq + 1, self.venue.log[self.applied_seq][1])
        self.commit_cursor()

    def deliver_until(self, ts_ns: int) -> None:
        log = self.venue.log
        while self.applied_seq < len(log) and log[self.applied_seq][0] <= ts_ns:
            self.on_event(self.applied_seq + 1, log[self.applied_seq][1])

    def on_event(self, seq: int, event: VenueEvent) -> None:
        if isinstance(event, Fill):
            held = self.ledger.record_fill(self.venue_id, INSTANCE_ID, event, seq)
            if held is None:
                self.stats.duplicate_fills += 1
            else:
                self.stats.fills_recorded += 1
                self.holdings = held
                if self.ready:
                    self.core.on_venue_event(event)
            self._cursor = seq
        elif self.ready:
            self.core.on_venue_event(event)
        self.applied_seq = seq

    def commit_cursor(self) -> None:
        """Write the cursor past the non-fill events applied since the last fill (a fill's commit moves it
        itself). The live engine queues one write per event and a crash may lose the queued tail; the run
        writes them when the process dies, unless a fault drops them (a lagging cursor only replays
        events). Order-status rows are not written: nothing in the run reads them."""
        if self.applied_seq > self._cursor:
            self.ledger.set_cursor(INSTANCE_ID, self.venue_id, self.applied_seq)
            self._cursor = self.applied_seq

    def on_answer(self, answer: Answer) -> None:
        if answer.epoch != self.epoch:
            return
        for client_id in answer.client_ids:
            self.core.on_order_query(client_id, answer.open_orders.get(client_id))

    # --- the cycle ---

    def cycle(self, feed: FeedView, arrival_ns: int, link_up: bool) -> QuoteBatch:
        now = self.clock.now_ns()
        for trade in self.venue.take_trades():
            self.core.on_market_trade(trade, feed.top.mid_x2 if feed.top else None)
        batch = self.core.cycle(feed, now)
        if batch.places:
            self.ledger.record_orders(self.venue_id, INSTANCE_ID, batch.places, now)
        if batch.cancels or batch.places:
            if link_up:
                for cancel in batch.cancels:
                    self.venue.send(cancel, arrival_ns, self.epoch)
                for place in batch.places:
                    self.venue.send(place, arrival_ns, self.epoch)
            else:
                self.stats.send_failed += 1
        if batch.queries:
            if link_up:
                self.venue.send(Query(batch.queries), arrival_ns, self.epoch)
            else:
                self.stats.query_failed += 1
        return batch

    def deliver_answers(self) -> None:
        answers = self.venue.answers
        while answers:
            self.on_answer(answers.popleft())
