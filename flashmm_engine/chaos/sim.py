"""The seeded fault simulation: engine, venue and ledger in one process on a simulated clock.

One seed is one run of `steps` engine cycles. At each step, in this order: faults are drawn; the venue
runs its order flow and the requests that reached it; the market data the core sees is observed (unless
the feed is in a gap); private events and query answers reach the engine (unless the link is down, the
delivery stalls or the engine is dead); a dead engine whose outage ended restarts from the ledger; the
engine cycles and sends its batch; the invariants are checked. Everything random comes from
`random.Random(seed)`, so a seed replays exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from flashmm_engine.chaos.engine import EngineLife
from flashmm_engine.chaos.faults import FaultRates, Faults
from flashmm_engine.chaos.invariants import InvariantChecker
from flashmm_engine.chaos.venue import ChaosVenue
from flashmm_engine.config.trading import QuotingSettings, RiskSettings
from flashmm_engine.execution.wiring import risk_limits
from flashmm_engine.ledger import tables
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import NS_PER_MS, BookTop, FeedView, MarketSpec, QuoteBatch, TradingState

CYCLE_NS = 200 * NS_PER_MS
LINK_LATENCY_NS = 20 * NS_PER_MS
"""One way, requests and events alike."""
DEPTH_LEVELS = 5
OPERATOR_RESUME_STEPS = 20
"""A market halted this long (by a fault, a reject storm) is resumed by the operator."""
START_NS = 1_700_000_000 * 10**9
SPEC = MarketSpec("SEI/USDC", Decimal("0.0001"), Decimal("0.1"), "SEI", "USDC")
QUOTING = QuotingSettings(base="as", order_size_lots=2, levels=2, min_spread_ticks=2)
RISK = RiskSettings(max_position_lots=8, max_working_orders=8, max_orders_per_s=20, reject_storm=6)
TRACE_CAP = 40
"""Steps of trace kept before a violation."""


@dataclass
class SeedResult:
    seed: int
    steps: int
    faults: Counter[str]
    violations: list[str]
    trace: list[str] = field(default_factory=list)
    fills: int = 0


def memory_ledger() -> Ledger:
    """The ledger's own code on an in-memory SQLite store (one connection: the schema lives in it)."""
    ledger = Ledger("sqlite://", migrate=False)
    tables.metadata.create_all(ledger.engine)
    return ledger


class ChaosRun:
    def __init__(self, seed: int, rates: FaultRates, trace: bool = False) -> None:
        self.rng = random.Random(seed)
        self.faults = Faults(self.rng, rates)
        self.clock = ManualClock(START_NS)
        self.venue = ChaosVenue(SPEC, self.faults, self.rng.getrandbits(32), START_NS)
        self.ledger = memory_ledger()
        self.checker = InvariantChecker(self.venue, risk_limits(SPEC, RISK))
        self.tracing = trace
        self.trace: list[str] = []
        self.violations: list[str] = []
        self.epoch = 1
        self.life: EngineLife | None = None
        self.link_down_until = 0
        self.engine_down_until = 0
        self.delivery_paused_until = 0
        self.feed_gap_until = 0
        self.resync_until = 0
        self.halted_since: int | None = None
        self.operator_resume_at = 0
        self.feed = FeedView(SPEC.symbol, START_NS, None)
        self._restart(0)

    # --- the run ---

    def run(self, steps: int) -> list[str]:
        for step in range(1, steps + 1):
            self.step(step)
            if self.violations:
                break
        self.ledger.close()
        return self.violations

    def step(self, step: int) -> None:
        now = START_NS + step * CYCLE_NS
        self.clock.advance_to(now)
        self._draw_faults(step)
        self.venue.advance(now)
        self._observe(step, now)
        life = self.life
        if life is None:
            if step >= self.engine_down_until:
                self._restart(step)
            return
        link_up = step >= self.link_down_until
        if link_up and step >= self.delivery_paused_until:
            life.deliver_until(now - LINK_LATENCY_NS)
            life.deliver_answers()
        elif not link_up:
            self.venue.answers.clear()
        self._operator(step, life)
        was_halted = life.core.state.state is TradingState.HALTED
        batch = life.cycle(self.feed, now + LINK_LATENCY_NS, link_up)
        if was_halted and batch.places:
            self._violation(step, f"HALTED market placed {len(batch.places)} orders")
        if self.tracing:
            self._trace(step, life, batch)
        for problem in life.stats.start_problems:
            self._violation(step, f"reconcile at start: {problem}")
        life.stats.start_problems.clear()
        for problem in self.checker.check(life):
            self._violation(step, problem)

    def _draw_faults(self, step: int) -> None:
        f, rates = self.faults, self.faults.rates
        if self.life is not None and f.draw("restart", rates.restart):
            if not f.draw("cursor_writes_lost", rates.cursor_writes_lost):
                self.life.commit_cursor()
            self.venue.drop_in_flight()
            self.venue.answers.clear()
            self.life = None
            self.engine_down_until = step + f.steps(rates.max_outage_steps)
            self._note(step, f"engine dies until step {self.engine_down_until}")
        if step >= self.link_down_until and f.draw("disconnect", rates.disconnect):
            lost = self.venue.drop_in_flight()
            self.epoch += 1
            if self.life is not None:
                self.life.epoch = self.epoch
            self.link_down_until = step + f.steps(rates.max_outage_steps)
            self._note(step, f"link down until step {self.link_down_until}, {lost} requests lost")
        if step >= self.delivery_paused_until and f.draw("event_delay", rates.event_delay):
            self.delivery_paused_until = step + f.steps(rates.max_delay_steps)
        if step >= self.feed_gap_until and f.draw("feed_gap", rates.feed_gap):
            self.feed_gap_until = step + f.steps(rates.max_gap_steps)
        if step >= self.resync_until and f.draw("feed_resync", rates.feed_resync):
            self.resync_until = step + f.steps(rates.max_gap_steps)
        if self.life is not None and self.life.ready and f.draw("operator_halt", rates.operator_halt):
            self.life.core.halt("chaos_operator")

    def _observe(self, step: int, now: int) -> None:
        if step < self.feed_gap_until:
            return
        top: BookTop | None = self.venue.top()
        bids, asks = self.venue.engine.depth(SPEC.symbol, DEPTH_LEVELS)
        synced = step >= self.resync_until
        self.feed = FeedView(SPEC.symbol, now, top, tuple(bids), tuple(asks), now, synced)

    def _operator(self, step: int, life: EngineLife) -> None:
        if life.core.state.state is not TradingState.HALTED:
            self.halted_since = None
        elif self.halted_since is None:
            self.halted_since = step
        elif step - self.halted_since >= OPERATOR_RESUME_STEPS:
            life.core.resume("chaos_operator")
            self.halted_since = None

    def _restart(self, step: int) -> None:
        # requests the dead process had written may still be read by the venue before it reconnects
        self.venue.advance(self.clock.now_ns())
        self.epoch += 1
        self.link_down_until = 0
        life = EngineLife(self.venue, self.ledger, self.clock, QUOTING, RISK)
        life.start(self.epoch)
        self.life = life
        self.halted_since = None
        self._note(
            step,
            f"engine started from the ledger at event {life.applied_seq}: position "
            f"{life.core.position}, cancelled {life.stats.stale_cancelled} stale and "
            f"{life.stats.orphans_cancelled} orphan orders",
        )
        if life.stats.orphans_cancelled:
            self._violation(step, f"{life.stats.orphans_cancelled} orphan orders at restart")

    # --- reporting ---

    def _violation(self, step: int, problem: str) -> None:
        self.violations.append(f"step {step}: {problem}")

    def _note(self, step: int, text: str) -> None:
        if self.tracing:
            self.trace.append(f"step {step}: {text}")

    def _trace(self, step: int, life: EngineLife, batch: QuoteBatch) -> None:
        state = life.core.state
        working = [(o.client_id, o.side.name, o.price, o.remaining) for o in life.core.orders.working()]
        resting = [(o.client_id, o.side.name, o.price, o.size - o.filled) for o in self.venue.open_orders()]
        self.trace.append(
            f"step {step}: {state.state.value} ({state.reason}) position {life.core.position} "
            f"applied {life.applied_seq}/{self.venue.seq} working {working} venue {resting} "
            f"cancels {[c.client_id for c in batch.cancels]} places {[p.client_id for p in batch.places]} "
            f"queries {list(batch.queries)}"
        )


def run_seed(seed: int, steps: int, rates: FaultRates | None = None, trace: bool = False) -> SeedResult:
    run = ChaosRun(seed, rates or FaultRates(), trace)
    violations = run.run(steps)
    return SeedResult(
        seed, steps, run.faults.counts, violations, run.trace[-TRACE_CAP:], len(run.venue.fills)
    )
