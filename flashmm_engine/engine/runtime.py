"""The engine process: start every market (reconciled before it quotes), run until stopped, then cancel
everything, flush the ledger and close, within the shutdown budget."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from flashmm_engine.config.settings import Settings
from flashmm_engine.control.actions import ControlActions, ReloadHook
from flashmm_engine.control.app import ControlApi
from flashmm_engine.control.audit import AuditEntry
from flashmm_engine.control.audit import record as record_audit
from flashmm_engine.engine.feature_spec import engine_feature_spec
from flashmm_engine.engine.fill_catchup import catch_up_hook, open_fill_journal
from flashmm_engine.engine.links import MarketLink, connect_sim
from flashmm_engine.engine.market_task import MarketRunner
from flashmm_engine.engine.reconcile import (
    LedgerBehind,
    ReconcileFailed,
    adopt_session,
    cancel_our_open_orders,
    compare,
    open_ledger_market,
    reconcile_at_start,
    reconcile_periodically,
    venue_session_hook,
)
from flashmm_engine.engine.reference import ReferenceFeed
from flashmm_engine.engine.reload.types import ModelStatus
from flashmm_engine.engine.sequences import PrefetchingSequenceStore
from flashmm_engine.engine.status import EngineStatus, market_status, model_age_s
from flashmm_engine.engine.telemetry import EngineTelemetry
from flashmm_engine.errors import CommandFailed, InputError
from flashmm_engine.execution.client_ids import DEFAULT_BLOCK, ClientIdSource
from flashmm_engine.execution.wiring import core_from_settings
from flashmm_engine.features.state import FeatureState
from flashmm_engine.ledger.journal import LedgerJournal
from flashmm_engine.ledger.sessions import venue_session
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.service.clock import WallClock
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.strategy.prediction import ModelPredictor
from flashmm_engine.telemetry.metrics import EngineMetrics
from flashmm_engine.venues.base import VenueError

if TYPE_CHECKING:  # torch is imported only when a model is configured: it costs seconds at start
    from flashmm_engine.engine.reload.wiring import ModelReload
    from flashmm_engine.models.loader import LoadedModel

log = logging.getLogger(__name__)

SHUTDOWN_CANCEL_S = 2.5
SHUTDOWN_SETTLE_S = 1.0
TASK_STOP_S = 0.5
CONNECT_BACKOFF_MAX_S = 2.0

LinkFactory = Callable[[str, int, str | None], Awaitable[MarketLink]]
"""(market, resume_after, session) -> a connected link; resume_after is the ledger's last applied event,
counted in venue session `session` (None: unknown)."""


class EngineRuntime:
    def __init__(self, settings: Settings, markets: list[str], connect: LinkFactory | None = None) -> None:
        self.settings = settings
        self.engine = settings.engine
        unknown = sorted(set(markets) - set(self.engine.markets))
        if unknown:
            raise InputError(
                f"--markets {','.join(unknown)}: not configured (engine.markets is {self.engine.markets})"
            )
        self.markets = markets
        self._connect = connect or self._connect_default
        self.runners: list[MarketRunner] = []
        self.tasks = TaskTracker("engine")
        self.journal: LedgerJournal | None = None
        self.model: LoadedModel | None = None
        self.reload: ModelReload | None = None
        self.started = asyncio.Event()
        self.telemetry = EngineTelemetry(settings)
        self.telemetry.runners = self.runners
        self._started_ns = time.time_ns()
        self.metrics = EngineMetrics(lambda: self.status_snapshot(latency=False))
        self.reload_hook: ReloadHook | None = None
        """Set by the hot-reload code: `POST /reload` answers 501 while it is None."""
        self.control: ControlApi | None = None
        self.reference = ReferenceFeed(settings) if self.engine.reference_feed else None
        """The Binance reference feed for the basis feature (engine/reference.py), when configured."""

    async def _connect_default(self, market: str, resume_after: int, session: str | None) -> MarketLink:
        recorder = self.telemetry.recorder
        tap = recorder.tap if recorder is not None else None
        if self.engine.venue == "sim":
            return await connect_sim(self.settings, market, resume_after, session, tap)
        from flashmm_engine.engine.sei_link import connect_sei

        return await connect_sei(self.settings, market, tap)

    def venue_id(self, market: str) -> str:
        return f"{self.engine.venue}/{market}"

    async def run(self, stop: asyncio.Event) -> None:
        ledger_url = self.engine.ledger_url
        url = ledger_url.get_secret_value() if ledger_url else self.settings.database.resolved_url
        ledger = await asyncio.to_thread(Ledger, url)
        self.journal = journal = LedgerJournal(ledger)
        journal.submit(
            ledger.record_event, self.engine.instance_id, "engine_starting", {"markets": self.markets}
        )
        try:
            await self._start_control(journal)
            store = PrefetchingSequenceStore(journal, self.engine.instance_id, DEFAULT_BLOCK)
            await asyncio.to_thread(store.prime)
            self.telemetry.start(stop)
            self.model = await self._load_model()
            for market in self.markets:
                self.runners.append(await self._start_market(market, store, stop))
            if self.reference is not None:
                self.reference.start(self.tasks, stop)
            if self.reload is not None:
                self.reload.start(self.tasks, stop)
            journal.submit(
                ledger.record_event,
                self.engine.instance_id,
                "engine_started",
                {"markets": self.markets, "model": self.model.version if self.model else None},
            )
            self.started.set()
            await stop.wait()
        finally:
            await self._shutdown()

    async def _start_control(self, journal: LedgerJournal) -> None:
        async def audit(entry: AuditEntry) -> None:
            await journal.call(record_audit, journal.ledger.engine, entry)

        actions = ControlActions(lambda: self.runners, lambda: self.reload_hook)
        self.control = ControlApi(
            self.settings.control, self.engine.instance_id, self.status_snapshot, self.metrics, actions, audit
        )
        await self.control.start()

    def status_snapshot(self, latency: bool = True) -> EngineStatus:
        """Everything `/status`, `/ready` and `/metrics` show, read on the event loop (`latency=False`: no
        percentiles, for the scrape)."""
        now = time.time_ns()
        model = self.model_status()
        return EngineStatus(
            instance_id=self.engine.instance_id,
            venue=self.engine.venue,
            started=self.started.is_set(),
            uptime_s=(now - self._started_ns) / 1e9,
            model=model,
            model_age_s=model_age_s(model, now),
            markets=tuple(market_status(r, now, latency) for r in self.runners),
            telemetry=self.telemetry.status(),
            reference=self.reference.summary() if self.reference is not None else None,
        )

    async def _load_model(self) -> LoadedModel | None:
        """The production version of engine.model_name, then hot reload (engine/reload/)."""
        if self.engine.model_name is None:
            return None
        import torch

        from flashmm_engine.engine.reload.wiring import ModelReload

        torch.set_num_threads(1)  # one sample per market per cycle: extra threads only add wake-up latency
        assert self.journal is not None
        self.reload = ModelReload(self.settings, self.journal, self._swap_model)
        self.reload_hook = self.reload.check_now
        model = await self.reload.open()
        if model is None:
            log.warning(
                "no servable version of model %s: plain base quotes until one is promoted",
                self.engine.model_name,
            )
        return model

    def _swap_model(self, model: LoadedModel) -> None:
        """One synchronous step between cycles: every market predicts with `model` from its next cycle."""
        self.model = model
        for runner in self.runners:
            predictor = ModelPredictor.from_loaded(model)
            if runner.inference is not None:
                predictor.continue_from(runner.inference)  # the spec hash is checked equal at load
            runner.inference = predictor

    def model_status(self) -> ModelStatus:
        """The served model, reloads, refusals (the last one in full), registry poll, Redis stream and
        shadow challenger: a typed snapshot for /status."""
        if self.reload is None:
            return ModelStatus(self.engine.model_name, None, None, None, None, None, 0, 0)
        return self.reload.status()

    async def _start_market(
        self, market: str, store: PrefetchingSequenceStore, stop: asyncio.Event
    ) -> MarketRunner:
        journal = self.journal
        assert journal is not None
        instance, venue_id = self.engine.instance_id, self.venue_id(market)
        cursor = await journal.call(journal.ledger.cursor, instance, venue_id)
        session = await journal.call(venue_session, journal.ledger, instance, venue_id)
        link = await self._connect_with_retry(market, cursor, session)
        ids = ClientIdSource(self.engine.instance_id, store)
        s = self.settings
        with_model = self.engine.model_name is not None  # a model may be promoted while this runs
        core = core_from_settings(link.spec, WallClock(), s.quoting, s.risk, ids, with_model)
        inference = ModelPredictor.from_loaded(self.model) if self.model is not None else None
        fill_journal = await open_fill_journal(s, market, journal)
        features = FeatureState(engine_feature_spec(s), market)
        runner = MarketRunner(link, core, features, inference, journal, self.engine, fill_journal)
        if self.reference is not None:
            self.reference.attach(features, link.spec)
            runner.reference = self.reference
        runner.on_ledger_outage = catch_up_hook(runner, stop)
        runner.on_venue_session = venue_session_hook(runner, stop)
        await adopt_session(runner, session)
        runner.after_cycle = self.reload.after_cycle if self.reload is not None else None
        runner.observe_cycle_ns = self.metrics.cycle_observer(market)
        runner.observe_inference_ns = self.metrics.inference_observer(market)
        await open_ledger_market(runner, cursor)
        self.tasks.spawn(runner.consume_events(), f"{market}:events")
        self.tasks.spawn(runner.consume_market_data(), f"{market}:market-data")
        try:
            await reconcile_at_start(runner)
        except (ReconcileFailed, VenueError) as exc:
            core.halt(f"reconcile_failed: {exc}")
            runner.alert("reconcile_failed", str(exc))
        runner.ready = True
        runner.check_state()
        self.tasks.spawn(runner.run_cycles(stop), f"{market}:cycles")
        self.tasks.spawn(reconcile_periodically(runner, stop), f"{market}:reconcile")
        return runner

    async def _connect_with_retry(self, market: str, cursor: int, session: str | None) -> MarketLink:
        """The venue may start after the engine (supervisord starts both): retry until the start timeout."""
        backoff = Backoff(max_s=CONNECT_BACKOFF_MAX_S)
        deadline = time.monotonic() + self.engine.start_timeout_s
        while True:
            try:
                return await self._connect(market, cursor, session)
            except VenueError as exc:
                if time.monotonic() > deadline:
                    raise CommandFailed(
                        f"{market}: no venue connection within the start timeout ({exc})"
                    ) from None
                log.warning("%s: venue not reachable yet: %s", market, exc)
                await asyncio.sleep(backoff.next_delay())

    async def _shutdown(self) -> None:
        started = time.monotonic()
        await asyncio.gather(*(self._stop_market(r) for r in self.runners))
        await self.tasks.shutdown(TASK_STOP_S)
        if self.reload is not None:
            await self.reload.close()
        await self.telemetry.close()
        for runner in self.runners:
            await runner.tasks.shutdown(TASK_STOP_S)
            try:
                await runner.link.venue.close()
            except (VenueError, OSError, TimeoutError) as exc:
                log.warning("%s: closing the venue connection: %s", runner.market, exc)
            if runner.fill_journal is not None:
                runner.fill_journal.close()
        self.telemetry.close_recording()
        if self.control is not None:
            await self.control.stop()
        if self.journal is not None:
            self.journal.submit(
                self.journal.ledger.record_event,
                self.engine.instance_id,
                "engine_stopped",
                {"markets": self.markets},
            )
            await self.journal.close()
        log.info("engine stopped in %.2fs", time.monotonic() - started)

    async def _stop_market(self, runner: MarketRunner) -> None:
        """Cancel everything and wait (bounded) until the venue shows none of our orders and the ledger has
        every event up to the venue's last."""
        batch = runner.core.kill("shutdown")
        runner.check_state()
        try:
            if not batch.empty:
                await runner.send(batch)
            remaining = await cancel_our_open_orders(runner, time.monotonic() + SHUTDOWN_CANCEL_S)
            settled = await compare(runner, time.monotonic() + SHUTDOWN_SETTLE_S)
            stats = runner.stats
            runner.record(
                "shutdown",
                late_cancels=remaining,
                ledger_agrees=settled is None,
                problem=settled,
                cycles=stats.cycles,
                missed_cycles=stats.missed_cycles,
                batches=stats.batches,
                fills=stats.fills_recorded,
                duplicate_fills=stats.duplicate_fills,
                book_messages=stats.book_messages,
                bad_input=dict(runner.core.bad_input.counts),
            )
        except (ReconcileFailed, LedgerBehind, VenueError) as exc:
            runner.alert("shutdown_incomplete", str(exc))
