"""One market's task: venue events into the ledger (then the core), market data into the FeatureState,
and one cycle per grid tick whose batch goes to the venue in one message.

Fail closed: no cycle runs until the start-up reconciliation has finished, and a market whose ledger and
venue disagree is halted. A fill is committed to the ledger before the core sees it. If the ledger
database cannot take a fill, the fill is fsync'd to the market's local fill journal instead, the market
halts (`ledger_unavailable`: quotes pulled, nothing placed) and every later fill goes to the journal too,
in order, until the catch-up task (engine/fill_catchup.py) has replayed it into the database and a
reconcile passes. Without a journal, or when the journal cannot take the fill (full, disk error), the
market halts and stops consuming events, so the fill is replayed by the venue after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.engine.cadence import grid_ticks, period_ns
from flashmm_engine.engine.feed_view import feed_view
from flashmm_engine.engine.links import MarketLink, SimLink
from flashmm_engine.engine.reference import ReferenceFeed
from flashmm_engine.engine.stats import RuntimeStats
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.features.state import FeatureState
from flashmm_engine.ledger.fill_journal import FillJournal, FillJournalFull
from flashmm_engine.ledger.journal import LedgerJournal
from flashmm_engine.ledger.pnl import apply_fill, cash_change
from flashmm_engine.ledger.sessions import start_venue_session
from flashmm_engine.ledger.store import Holdings, OrderUpdate
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.strategy.prediction import ModelPredictor
from flashmm_engine.types import (
    Ack,
    BookSnapshot,
    CancelAck,
    FeedView,
    Fill,
    OrderStatus,
    QuoteBatch,
    Reject,
    RiskState,
    Trade,
    VenueEvent,
    VenueSession,
)
from flashmm_engine.venues.base import VenueError

log = logging.getLogger(__name__)

CYCLE_LOG_CAP = 3_000
"""Recent cycles kept as (grid_ns, missed before it, duration_ns): ten minutes at 5 Hz."""
HISTORY_CAP = 10_000
"""Ledger states kept by event sequence, so a venue snapshot as of seq N compares with the ledger at N."""
LEDGER_UNAVAILABLE = "ledger_unavailable"
"""Halt reason while fills are durable only in the local fill journal."""
VENUE_SESSION_CHANGED = "venue_session_changed"
"""Halt reason from a new venue session until the ledger has been reconciled against it."""


@dataclass(frozen=True, slots=True)
class AppliedState:
    seq: int
    position: int
    cash: int


class MarketRunner:
    def __init__(
        self,
        link: MarketLink,
        core: TradingCore,
        features: FeatureState,
        inference: ModelPredictor | None,
        journal: LedgerJournal,
        settings: EngineSettings,
        fill_journal: FillJournal | None = None,
    ) -> None:
        self.link = link
        self.core = core
        self.features = features
        self.inference = inference
        self.journal = journal
        self.settings = settings
        self.fill_journal = fill_journal
        self.ledger_degraded = False
        """True while fills go to the local fill journal, not the database."""
        self.outage_started: float | None = None
        self.on_ledger_outage: Callable[[], None] | None = None
        """Starts the catch-up task; called when the first fill goes to the local journal."""
        self.session: str | None = None
        """The venue session `applied_seq` and `history` count in (reconcile compares only within it)."""
        self.on_venue_session: Callable[[], None] | None = None
        """Starts the reconciliation against a new venue session, once the ledger has switched to it."""
        self._journaled_ids: set[str] = set()
        """Fill ids in the local journal (bounded by its size cap), so a re-sent one is not applied twice."""
        self.market = link.spec.symbol
        self.instance_id = settings.instance_id
        self.stats = RuntimeStats()
        self.tasks = TaskTracker(f"market:{self.market}")
        self.ready = False
        self.consuming = True
        self.applied_seq = 0
        self.skip_until = 0
        self.holdings: Holdings | None = None
        self.history: deque[AppliedState] = deque(maxlen=HISTORY_CAP)
        self.after_cycle: Callable[[str, FeedView], None] | None = None
        """Called after each cycle's batch went out (the shadow challenger)."""
        self.cycle_log: deque[tuple[int, int, int]] = deque(maxlen=CYCLE_LOG_CAP)
        self._last_state: RiskState = core.state
        self.last_book_rx_ns: int | None = None
        """When the latest book update applied was read off the venue socket (wall ns)."""
        self.last_event_ts = 0
        self.last_view: FeedView | None = None
        """The feed view of the latest cycle, read by the telemetry tasks (hot state, InfluxDB)."""
        self.reference: ReferenceFeed | None = None
        """The reference feed whose freshness each cycle checks (None: not configured)."""
        self.observe_cycle_ns: Callable[[int], None] | None = None
        self.observe_inference_ns: Callable[[int], None] | None = None
        """Metrics hooks (Prometheus histograms), called once per cycle / prediction when set."""

    # --- ledger events and alerts ---

    def record(self, kind: str, **detail: object) -> None:
        self.journal.submit(
            self.journal.ledger.record_event,
            self.instance_id,
            kind,
            dict(detail),
            self.market,
            time.time_ns(),
        )

    def alert(self, kind: str, message: str, **detail: object) -> None:
        self.stats.alerts[kind] += 1
        log.error("ALERT %s on %s: %s", kind, self.market, message)
        self.record("alert", alert=kind, message=message, **detail)

    def check_state(self) -> None:
        state = self.core.state
        if state != self._last_state:
            self.record(
                "state_change",
                previous=self._last_state.state.value,
                to=state.state.value,
                reason=state.reason,
            )
            log.warning(
                "%s: %s -> %s (%s)",
                self.market,
                self._last_state.state.value,
                state.state.value,
                state.reason,
            )
            self._last_state = state

    # --- venue events ---

    def seed_history(self, seq: int, holdings: Holdings) -> None:
        self.holdings = holdings
        self.applied_seq = max(self.applied_seq, seq)
        self.history.append(AppliedState(seq, holdings.book.position, holdings.cash))

    def state_at(self, seq: int) -> AppliedState | None:
        """The ledger's position and cash after exactly the events up to `seq` (None: older than kept)."""
        found = None
        for entry in self.history:
            if entry.seq > seq:
                break
            found = entry
        return found

    async def consume_events(self) -> None:
        venue_id = self.link.venue_id
        ledger = self.journal.ledger
        async for event in self.link.venue.events():
            if isinstance(event, VenueSession):
                if not await self._new_session(event):
                    return
                continue
            seq = self.link.event_seq()
            if seq is not None and seq <= self.skip_until:
                continue
            self.stats.venue_events += 1
            if isinstance(event, Fill):
                if not await self._book_fill(event, seq):
                    return
            else:
                self._order_update(event)
                if self.ready:
                    self.core.on_venue_event(event)
                if seq is not None:
                    self.journal.submit(ledger.set_cursor, self.instance_id, venue_id, seq)
            if seq is not None:
                self.applied_seq = seq
            self.check_state()

    async def _new_session(self, event: VenueSession) -> bool:
        """Every event of the previous session has been applied: halt, drop its orders in the core and the
        ledger, count events from 0 in the new session, then have it reconciled (`on_venue_session`)."""
        dropped = self.core.venue_session_ended(VENUE_SESSION_CHANGED)
        self.check_state()
        try:
            expired = await self.journal.call(
                start_venue_session,
                self.journal.ledger,
                self.instance_id,
                self.link.venue_id,
                self.market,
                event.session,
                event.previous,
                time.time_ns(),
            )
        except Exception as exc:  # noqa: BLE001 - without the switch recorded the market must stay halted
            self.alert("ledger_write_failed", f"venue session {event.session} not recorded: {exc!r}")
            self.consuming = False
            return False
        held = self.holdings
        assert held is not None
        self.session = event.session
        self.applied_seq = self.skip_until = 0
        self.history.clear()
        self.history.append(AppliedState(0, held.book.position, held.cash))
        self.alert(
            VENUE_SESSION_CHANGED,
            f"venue session {event.previous} ended; now {event.session}: {dropped} working orders "
            f"dropped, {expired} expired in the ledger; quoting resumes after a reconcile",
            session=event.session,
            previous=event.previous,
            expired_orders=expired,
        )
        if self.on_venue_session is not None:
            self.on_venue_session()
        return True

    async def _book_fill(self, fill: Fill, seq: int | None) -> bool:
        if fill.market != self.market:
            self.alert("foreign_fill", f"fill {fill.fill_id} is for {fill.market}", fill=repr(fill))
            return True
        if self.ledger_degraded:
            return self._journal_fill(fill, seq)
        try:
            held = await self.journal.call(
                self.journal.ledger.record_fill, self.link.venue_id, self.instance_id, fill, seq
            )
        except Exception as exc:  # noqa: BLE001 - any ledger failure must stop trading, not the process
            if self.fill_journal is None or self.on_ledger_outage is None:
                return self._stop_on_ledger_failure(fill, exc)
            self.alert(LEDGER_UNAVAILABLE, f"fill {fill.fill_id} not committed, journaled locally: {exc!r}")
            return self._journal_fill(fill, seq)
        if held is None:
            self.stats.duplicate_fills += 1
            return True
        self.stats.fills_recorded += 1
        self._apply(fill, held, seq)
        return True

    def _journal_fill(self, fill: Fill, seq: int | None) -> bool:
        """Make the fill durable in the local journal, halt before the core sees it, then apply it."""
        assert self.fill_journal is not None and self.on_ledger_outage is not None
        if fill.fill_id in self._journaled_ids:
            self.stats.duplicate_fills += 1
            return True
        try:
            self.fill_journal.append(self.link.venue_id, self.instance_id, fill, seq)
        except (FillJournalFull, OSError) as exc:
            return self._stop_on_ledger_failure(fill, exc)
        self._journaled_ids.add(fill.fill_id)
        self.stats.fills_journaled += 1
        self.core.halt(LEDGER_UNAVAILABLE)
        self.check_state()
        if not self.ledger_degraded:
            self.ledger_degraded = True
            self.outage_started = time.monotonic()
            self.stats.ledger_outages += 1
            self.on_ledger_outage()
        held = self.holdings
        assert held is not None
        self._apply(fill, _with_fill(held, fill), seq)
        return True

    def ledger_caught_up(self) -> None:
        """Every journaled fill is in the database: later fills are committed there again."""
        self.ledger_degraded = False
        self._journaled_ids.clear()

    def _apply(self, fill: Fill, held: Holdings, seq: int | None) -> None:
        self.holdings = held
        self.history.append(
            AppliedState(seq if seq is not None else self.applied_seq, held.book.position, held.cash)
        )
        if self.ready:
            self.core.on_venue_event(fill)

    def _stop_on_ledger_failure(self, fill: Fill, exc: BaseException) -> bool:
        self.alert("ledger_write_failed", f"fill {fill.fill_id} not recorded: {exc!r}")
        self.core.halt("ledger_write_failed")
        self.check_state()
        self.consuming = False
        return False

    def _order_update(self, event: VenueEvent) -> None:
        now = time.time_ns()
        if isinstance(event, Ack):
            update = OrderUpdate(event.client_id, OrderStatus.OPEN, now, venue_order_id=event.venue_order_id)
        elif isinstance(event, CancelAck):
            update = OrderUpdate(event.client_id, OrderStatus.CANCELLED, now)
        elif isinstance(event, Reject):
            update = OrderUpdate(event.client_id, OrderStatus.REJECTED, now)
        else:
            return
        self.journal.submit(self.journal.ledger.update_orders, [update])

    # --- market data ---

    async def consume_market_data(self) -> None:
        link = self.link
        client = link.client if isinstance(link, SimLink) else None
        async for event in link.venue.market_data():
            self.stats.market_messages += 1
            self.features.on_event(event)
            self.last_event_ts = max(self.last_event_ts, event.ts_local)
            if isinstance(event, Trade):
                self.core.on_market_trade(event, self.features.mid_x2)
            else:
                self.stats.book_messages += 1
                rx_ns = client.market_rx_ns if client is not None else None
                self.last_book_rx_ns = rx_ns if rx_ns is not None else time.time_ns()
                if isinstance(event, BookSnapshot):
                    self.stats.book_snapshots += 1

    def feed_gaps(self) -> int:
        """Messages the venue link lost: private-event resume gaps and market data dropped on overflow."""
        link = self.link
        if isinstance(link, SimLink):
            return link.client.resume_gaps + link.client.market_dropped
        return 0

    def feed_view(self, now_ns: int) -> FeedView:
        return feed_view(self, now_ns)

    # --- cycles ---

    async def run_cycles(self, stop: asyncio.Event) -> None:
        async for tick in grid_ticks(period_ns(self.settings.cycle_hz), stop):
            started = time.perf_counter_ns()
            stats = self.stats
            stats.cycles += 1
            stats.missed_cycles += tick.missed
            stats.jitter_ns.add(tick.woke_ns - tick.grid_ns)
            view = self.last_view = feed_view(self, tick.woke_ns)
            batch = self.core.cycle(view, tick.woke_ns)
            if not batch.empty:
                await self.send(batch)
                stats.cycle_to_order_ns.add(time.perf_counter_ns() - started)
                if view.book_ts_ns is not None:
                    stats.tick_to_order_ns.add(time.time_ns() - view.book_ts_ns)
            if batch.queries:
                self.tasks.spawn(self.answer_queries(batch.queries), "order-query")
            duration = time.perf_counter_ns() - started
            stats.cycle_ns.add(duration)
            self.cycle_log.append((tick.grid_ns, tick.missed, duration))
            if self.observe_cycle_ns is not None:
                self.observe_cycle_ns(duration)
            if self.after_cycle is not None:
                self.after_cycle(self.market, view)
            self.check_state()

    async def send(self, batch: QuoteBatch) -> None:
        if batch.places:
            self.journal.submit(
                self.journal.ledger.record_orders,
                self.link.venue_id,
                self.instance_id,
                batch.places,
                time.time_ns(),
            )
        try:
            await self.link.send(batch)
            self.stats.batches += 1
        except VenueError as exc:
            # the orders stay unacknowledged in the order manager, which times them out into venue queries
            self.stats.send_errors += 1
            self.alert("send_failed", str(exc))

    async def answer_queries(self, client_ids: tuple[str, ...]) -> None:
        try:
            open_orders = {o.client_id: o for o in await self.link.venue.open_orders(self.market)}
        except VenueError as exc:
            self.alert("query_failed", str(exc))
            return
        for client_id in client_ids:
            self.core.on_order_query(client_id, open_orders.get(client_id))


def _with_fill(held: Holdings, fill: Fill) -> Holdings:
    """The holdings after `fill`, computed as Ledger.record_fill computes them (same pnl functions)."""
    return Holdings(
        apply_fill(held.book, fill.side, fill.price, fill.size),
        held.opening_cash,
        held.cash + cash_change(fill.side, fill.price, fill.size, fill.fee),
        held.fees + fill.fee,
        held.fills + 1,
    )
