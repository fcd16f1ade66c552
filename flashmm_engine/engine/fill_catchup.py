"""Catch-up after a ledger database outage: replay the local fill journal, reconcile, then quote again.

Runs as one tracked task per outage. It retries the replay with backoff and jitter until the database
takes every journaled fill (duplicates are no-ops), clears the journal only when no fill was added
meanwhile, then compares the ledger with the venue. Quoting resumes only if they agree and the market is
still halted for `ledger_unavailable` (an operator's halt or a disagreement stays). A corrupt journal
keeps the market halted and the file untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.market_task import LEDGER_UNAVAILABLE, MarketRunner
from flashmm_engine.engine.reconcile import LedgerBehind, compare, disagree
from flashmm_engine.errors import CommandFailed
from flashmm_engine.ledger.fill_journal import FillJournal, FillJournalCorrupt, replay_into
from flashmm_engine.ledger.journal import LedgerJournal
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.types import TradingState
from flashmm_engine.venues.base import VenueError

log = logging.getLogger(__name__)

CATCH_UP_BASE_S = 0.2
CATCH_UP_MAX_S = 5.0
JOURNAL_DIR = "fill-journal"


async def open_fill_journal(settings: Settings, market: str, ledger: LedgerJournal) -> FillJournal:
    """Open the market's fill journal and commit what a previous run left in it (before the start-up
    reconciliation reads the ledger). A corrupt journal stops the start with the bad lines named."""
    engine = settings.engine
    directory = engine.fill_journal_dir or settings.data_home / JOURNAL_DIR
    name = "".join(c if c.isalnum() else "_" for c in market)
    journal = FillJournal(directory / f"{engine.instance_id}-{name}.jsonl", engine.fill_journal_max_bytes)
    if journal.lines:
        try:
            entries = journal.entries()
        except FillJournalCorrupt as exc:
            journal.close()
            raise CommandFailed(f"{market}: {exc}; fix or move the file, then start again") from None
        replayed = await ledger.call(replay_into, ledger.ledger, entries)
        journal.clear()
        log.warning("%s: %d fills from the fill journal committed (%d new)", market, len(entries), replayed)
    return journal


def catch_up_hook(runner: MarketRunner, stop: asyncio.Event) -> Callable[[], None]:
    """The runner's `on_ledger_outage`: starts a tracked catch-up task unless one is running."""
    running: list[asyncio.Task[None]] = []

    def start() -> None:
        if running and not running[0].done():
            return
        running[:] = [runner.tasks.spawn(catch_up(runner, stop), "ledger-catch-up")]

    return start


async def catch_up(runner: MarketRunner, stop: asyncio.Event) -> None:
    journal = runner.fill_journal
    assert journal is not None
    backoff = Backoff(base_s=CATCH_UP_BASE_S, max_s=CATCH_UP_MAX_S)
    while not stop.is_set():
        replayed = await _drain(runner, journal, backoff, stop)
        if replayed is None:
            return
        problem = await _reconcile(runner, backoff, stop)
        if runner.ledger_degraded:
            continue  # the database failed again while reconciling
        if problem is not None:
            disagree(runner, problem)
            return
        _resume(runner, replayed)
        return


async def _drain(
    runner: MarketRunner, journal: FillJournal, backoff: Backoff, stop: asyncio.Event
) -> int | None:
    """Replay until the journal is empty; returns fills new to the ledger (None: stopped or corrupt)."""
    replayed = 0
    while not stop.is_set():
        try:
            entries = journal.entries()
        except FillJournalCorrupt as exc:
            runner.core.halt("fill_journal_corrupt")
            runner.alert("fill_journal_corrupt", str(exc))
            runner.check_state()
            return None
        try:
            replayed += await runner.journal.call(replay_into, runner.journal.ledger, entries)
        except Exception as exc:  # noqa: BLE001 - the database is still away: retry, never give up the fills
            log.warning("%s: ledger unavailable (%d fills journaled): %r", runner.market, len(entries), exc)
            await _pause(stop, backoff.next_delay())
            continue
        if len(entries) == journal.lines:  # no fill journaled while the replay ran: nothing is left
            journal.clear()
            runner.ledger_caught_up()
            backoff.reset()
            return replayed
    return None


async def _reconcile(runner: MarketRunner, backoff: Backoff, stop: asyncio.Event) -> str | None:
    while not stop.is_set() and not runner.ledger_degraded:
        try:
            return await compare(runner)
        except (VenueError, LedgerBehind) as exc:
            log.warning("%s: reconcile after the ledger outage: %s", runner.market, exc)
            await _pause(stop, backoff.next_delay())
    return None


def _resume(runner: MarketRunner, replayed: int) -> None:
    started = runner.outage_started
    took = time.monotonic() - started if started is not None else 0.0
    runner.outage_started = None
    stats = runner.stats
    stats.ledger_recoveries += 1
    stats.worst_recovery_s = max(stats.worst_recovery_s, took)
    state = runner.core.state
    held = runner.holdings
    assert held is not None
    runner.record("ledger_recovered", replayed=replayed, seconds=round(took, 3))
    if state.state is TradingState.HALTED and state.reason == LEDGER_UNAVAILABLE:
        runner.core.sync_inventory(held.book.trading_position, held.cash - held.opening_cash)
        runner.core.resume("ledger_recovered")
        runner.check_state()
    log.warning("%s: ledger caught up (%d fills replayed) after %.1fs", runner.market, replayed, took)


async def _pause(stop: asyncio.Event, delay_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay_s)
