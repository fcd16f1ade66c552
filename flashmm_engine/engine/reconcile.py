"""Reconciliation of one market's ledger with its venue: at start (fail closed) and every N seconds.

At start: adopt the venue's balances as the opening balance of a market the ledger has never seen;
cancel every open order carrying our prefix (the ones the ledger does not know are orphans) and wait
until the venue shows none; let the replayed private events fill in what the ledger lacks; then compare
position and cash. Quoting starts only if they agree. During the run a disagreement moves the market to
the configured state, is recorded as an engine event and raised as an alert.

A sequenced venue (the sim) reports its account as of private event N; the ledger's state after exactly
event N is compared with it, so fills in flight never cause a false alarm. An unsequenced venue must
disagree twice in a row with no ledger change in between.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from flashmm_engine.engine.links import AccountView
from flashmm_engine.engine.market_task import VENUE_SESSION_CHANGED, AppliedState, MarketRunner
from flashmm_engine.ledger.sessions import start_venue_session
from flashmm_engine.ledger.store import Holdings
from flashmm_engine.types import CancelRequest, QuoteBatch, TradingState
from flashmm_engine.venues.base import VenueError

log = logging.getLogger(__name__)

POLL_S = 0.1
CANCEL_CHUNK = 100
APPLY_WAIT_S = 5.0
UNSEQUENCED_SETTLE_S = 0.5
COMPARE_ATTEMPTS = 3
SESSION_MISMATCH = "venue_session_mismatch"


class ReconcileFailed(RuntimeError):
    """The ledger and the venue could not be brought to agree."""


class LedgerBehind(RuntimeError):
    """The ledger has not yet applied the events the venue's snapshot includes: no comparison is possible
    yet (a slow machine, not a disagreement)."""


async def open_ledger_market(runner: MarketRunner, resumed_from: int) -> None:
    """Load the market's holdings, or adopt the venue's balances as the opening balance (exactly as of
    private event N on a sequenced venue, whose events up to N are then skipped)."""
    journal, link = runner.journal, runner.link
    held = await journal.call(journal.ledger.holdings, link.venue_id, runner.market)
    if held is None:
        view = await link.snapshot()
        await journal.call(
            journal.ledger.open_market,
            link.venue_id,
            runner.market,
            view.position,
            view.cash or 0,
            time.time_ns(),
        )
        if view.seq is not None:
            await journal.call(journal.ledger.set_cursor, runner.instance_id, link.venue_id, view.seq)
            runner.skip_until = view.seq
        runner.record("opening_balance", position=view.position, cash=view.cash, seq=view.seq)
        held = await journal.call(journal.ledger.holdings, link.venue_id, runner.market)
        assert held is not None
        resumed_from = view.seq or 0
    runner.seed_history(resumed_from, held)


async def reconcile_at_start(runner: MarketRunner) -> None:
    """Raises ReconcileFailed (the caller halts the market) or returns with the core's inventory synced."""
    deadline = time.monotonic() + runner.settings.start_timeout_s
    await cancel_our_open_orders(runner, deadline)
    for attempt in range(COMPARE_ATTEMPTS):
        try:
            problem = await compare(runner, deadline)
        except LedgerBehind as exc:
            problem = str(exc)
        if problem is None:
            break
        log.warning("%s: start-up reconciliation attempt %d: %s", runner.market, attempt + 1, problem)
        await asyncio.sleep(UNSEQUENCED_SETTLE_S)
    else:
        raise ReconcileFailed(problem)
    held = runner.holdings
    assert held is not None
    runner.core.sync_inventory(*synced_inventory(held))
    runner.record("reconciled", phase="start", position=held.book.position, cash=held.cash, fills=held.fills)
    log.info(
        "%s: reconciled at start (position %d lots, %d fills in the ledger)",
        runner.market,
        held.book.position,
        held.fills,
    )


async def cancel_our_open_orders(runner: MarketRunner, deadline: float) -> int:
    """Cancel every open order with our prefix until the venue shows none; returns how many there were."""
    prefix = runner.core.ids.prefix
    cancelled: set[str] = set()
    while True:
        ours = [
            o for o in await runner.link.venue.open_orders(runner.market) if o.client_id.startswith(prefix)
        ]
        if not ours:
            return len(cancelled)
        if time.monotonic() > deadline:
            raise ReconcileFailed(f"{len(ours)} of our orders still open at the venue after cancelling")
        fresh = [o for o in ours if o.client_id not in cancelled]
        if fresh:
            known = await runner.journal.call(
                runner.journal.ledger.known_orders, [o.client_id for o in fresh]
            )
            for order in fresh:
                kind = cancel_kind(order.client_id, known)
                runner.record(
                    kind, client_id=order.client_id, side=order.side.sign, price=order.price, size=order.size
                )
            for i in range(0, len(fresh), CANCEL_CHUNK):
                chunk = tuple(CancelRequest(o.client_id, runner.market) for o in fresh[i : i + CANCEL_CHUNK])
                await runner.link.send(QuoteBatch(runner.market, cancels=chunk))
            cancelled.update(o.client_id for o in fresh)
        await asyncio.sleep(POLL_S)


async def compare(runner: MarketRunner, deadline: float | None = None) -> str | None:
    """None if the ledger agrees with the venue, else what differs."""
    view = await runner.link.snapshot()
    wait_until = time.monotonic() + APPLY_WAIT_S if deadline is None else deadline
    while view.session != runner.session:  # the switch to a new venue session is still being applied
        if time.monotonic() > wait_until:
            raise LedgerBehind(f"the venue runs session {view.session}, the ledger is in {runner.session}")
        await asyncio.sleep(POLL_S)
        view = await runner.link.snapshot()
    if view.seq is None:
        held = runner.holdings
        assert held is not None
        return difference(view, AppliedState(runner.applied_seq, held.book.position, held.cash))
    while runner.applied_seq < view.seq:
        if not runner.consuming:
            return "the ledger stopped taking events"
        if time.monotonic() > wait_until:
            raise LedgerBehind(
                f"venue is at event {view.seq}, the ledger applied only up to {runner.applied_seq}"
            )
        await asyncio.sleep(0.005)
    state = runner.state_at(view.seq)
    if state is None:
        return None if runner.applied_seq > view.seq else f"no ledger state at event {view.seq}"
    return difference(view, state)


def synced_inventory(held: Holdings) -> tuple[int, int]:
    """The core's inventory from the ledger: lots traded since the opening balance, and cash likewise."""
    return held.book.trading_position, held.cash - held.opening_cash


def cancel_kind(client_id: str, known: set[str]) -> str:
    """How an open order of ours found at start is recorded: one the ledger never saw is an orphan."""
    return "stale_order_cancelled" if client_id in known else "orphan_order_cancelled"


def difference(view: AccountView, state: AppliedState) -> str | None:
    """What differs between the venue's account and the ledger's state as of the same event (None: agree)."""
    problems = []
    if view.position != state.position:
        problems.append(f"position: venue {view.position} lots, ledger {state.position}")
    if view.cash is not None and view.cash != state.cash:
        problems.append(f"cash: venue {view.cash} units, ledger {state.cash}")
    return "; ".join(problems) or None


async def reconcile_periodically(runner: MarketRunner, stop: asyncio.Event) -> None:
    interval = runner.settings.reconcile_interval_s
    suspect: tuple[str, int] | None = None
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
            return
        except TimeoutError:
            pass
        try:
            problem = await compare(runner)
        except VenueError as exc:
            runner.alert("reconcile_unavailable", str(exc))
            continue
        except LedgerBehind as exc:
            runner.stats.alerts["reconcile_skipped_ledger_behind"] += 1
            log.warning("%s: reconciliation skipped: %s", runner.market, exc)
            continue
        if problem is None:
            suspect = None
            continue
        fills = runner.holdings.fills if runner.holdings else 0
        if not runner.link.sequenced and (suspect is None or suspect[1] != fills):
            suspect = (problem, fills)  # confirm on the next check: fills may have been in flight
            continue
        disagree(runner, problem)


async def adopt_session(runner: MarketRunner, known: str | None) -> None:
    """Start in the venue session the ledger's cursor counts in; the first one seen is recorded."""
    runner.session = known
    first = runner.link.venue_session()
    if known is None and first is not None:
        journal = runner.journal
        await journal.call(
            start_venue_session,
            journal.ledger,
            runner.instance_id,
            runner.link.venue_id,
            runner.market,
            first,
            None,
            time.time_ns(),
        )
        runner.session = first


def venue_session_hook(runner: MarketRunner, stop: asyncio.Event) -> Callable[[], None]:
    """The runner's `on_venue_session`: one tracked reconciliation task per new session."""

    def start() -> None:
        runner.tasks.spawn(reconcile_new_session(runner, stop), "venue-session")

    return start


async def reconcile_new_session(runner: MarketRunner, stop: asyncio.Event) -> None:
    """After the ledger switched to a new venue session: compare again (the venue must have kept the
    account, `sim.state_file`), then quote again; a difference keeps the market halted with the reason."""
    started = time.monotonic()
    deadline = started + runner.settings.start_timeout_s
    problem: str | None = "not compared"
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            problem = await compare(runner, deadline)
        except (VenueError, LedgerBehind) as exc:
            problem = str(exc)
            log.warning("%s: reconcile against the new venue session: %s", runner.market, exc)
            await asyncio.sleep(UNSEQUENCED_SETTLE_S)
            continue
        break
    if stop.is_set():
        return
    if problem is not None:
        reason = f"{SESSION_MISMATCH}: {problem}"
        runner.core.halt(reason)
        runner.alert(SESSION_MISMATCH, f"the new venue session's account differs from the ledger: {problem}")
        runner.check_state()
        return
    held = runner.holdings
    assert held is not None
    runner.core.sync_inventory(*synced_inventory(held))
    took = time.monotonic() - started
    runner.record(
        "reconciled",
        phase="venue_session",
        session=runner.session,
        position=held.book.position,
        cash=held.cash,
        fills=held.fills,
        seconds=round(took, 3),
    )
    state = runner.core.state
    if state.state is TradingState.HALTED and state.reason == VENUE_SESSION_CHANGED:
        runner.core.resume("venue_session_reconciled")
    runner.check_state()
    log.warning("%s: reconciled against venue session %s in %.2fs", runner.market, runner.session, took)


def disagree(runner: MarketRunner, problem: str) -> None:
    reason = f"reconcile: {problem}"
    if runner.settings.on_disagreement == "halted":
        runner.core.halt(reason)
    else:
        runner.core.reduce_only(reason)
    runner.alert("reconcile_disagreement", problem, policy=runner.settings.on_disagreement)
    runner.check_state()
