"""The engine's status as typed, immutable snapshots: what `/status`, `/ready` and `/metrics` read.

`EngineRuntime.status_snapshot()` builds one `EngineStatus` on the event loop (no locks: the runtime's
state is only ever touched from that loop). The model part is hot reload's own `ModelStatus`
(`engine/reload/types.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flashmm_engine.engine.reload.types import ModelStatus
from flashmm_engine.telemetry.status import TelemetryStatus
from flashmm_engine.types import NOTIONAL_SCALE, NS_PER_S, MarketSpec, Side, TradingState

if TYPE_CHECKING:
    from flashmm_engine.engine.market_task import MarketRunner


@dataclass(frozen=True, slots=True)
class QuoteStatus:
    side: str
    price_ticks: int
    remaining_lots: int
    level: int
    cancel_sent: bool


@dataclass(frozen=True, slots=True)
class FeedStatus:
    synced: bool
    book_age_ms: float | None
    """Since the last book update was received (None: none yet)."""
    market_messages: int
    book_messages: int
    book_snapshots: int
    resyncs: int
    """Book snapshots after the first: each one replaced a book that had lost sync."""
    gaps: int
    """Venue-side gaps: lost private events (resume gaps) and market-data messages dropped on overflow."""


@dataclass(frozen=True, slots=True)
class CycleStatus:
    cycles: int
    missed_cycles: int
    batches: int
    p50_us: float | None
    p99_us: float | None
    max_us: float | None
    tick_to_order_p99_us: float | None
    inference_p99_us: float | None
    jitter_p99_us: float | None


@dataclass(frozen=True, slots=True)
class OrderFlowStatus:
    """Counters since start (cumulative, for Prometheus counters)."""

    quotes: int
    cancels: int
    fills: int
    rejects: dict[str, int]
    fallbacks: dict[str, int]
    refusals: dict[str, int]
    model_errors: int
    send_errors: int
    alerts: dict[str, int]


@dataclass(frozen=True, slots=True)
class MarketStatus:
    market: str
    state: str
    reason: str
    state_since_ns: int
    ready: bool
    """Reconciled at start and still consuming venue events."""
    position_lots: int
    pnl_notional_units: int | None
    """Mark-to-market PnL of the trading position since the ledger's opening balance, fees included
    (None: no mid yet)."""
    pnl_quote: str | None
    """The same in quote currency (a decimal string)."""
    quotes: tuple[QuoteStatus, ...]
    quoted_spread_ticks: int | None
    """Best working ask minus best working bid (None: not quoting both sides)."""
    feed: FeedStatus
    cycle: CycleStatus
    flow: OrderFlowStatus

    @property
    def quoting(self) -> bool:
        return self.ready and self.state != TradingState.HALTED.value


@dataclass(frozen=True, slots=True)
class EngineStatus:
    instance_id: str
    venue: str
    started: bool
    uptime_s: float
    model: ModelStatus
    model_age_s: float | None
    """Since the served model was swapped in (None: no model)."""
    markets: tuple[MarketStatus, ...] = field(default=())
    telemetry: TelemetryStatus | None = None
    """Redis hot state (the `degraded` flag), InfluxDB, Sentry and raw recording (`engine/telemetry.py`)."""
    reference: dict[str, object] | None = None
    """The Binance reference feed: freshness, stale spans and recoveries, connects, resyncs, gaps."""

    @property
    def ready(self) -> bool:
        """Reconciled and quoting: started, and every market reconciled and not halted."""
        return self.started and bool(self.markets) and all(m.quoting for m in self.markets)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ready"] = self.ready
        return out


def model_age_s(model: ModelStatus, now_ns: int) -> float | None:
    return None if model.loaded_at_ns is None else (now_ns - model.loaded_at_ns) / NS_PER_S


def market_status(runner: MarketRunner, now_ns: int, latency: bool = True) -> MarketStatus:
    """`latency=False` leaves the percentiles out (None): they sort up to `SAMPLES_CAP` samples per series,
    which a Prometheus scrape does not need (it reads the histograms)."""
    core, stats, fs = runner.core, runner.stats, runner.features
    state = core.state
    working = core.working_orders()
    mid_x2 = fs.mid_x2
    pnl = None if mid_x2 is None else _pnl_units(runner, mid_x2)
    book_rx = runner.last_book_rx_ns
    return MarketStatus(
        market=runner.market,
        state=state.state.value,
        reason=state.reason,
        state_since_ns=state.since_ns,
        ready=runner.ready and runner.consuming,
        position_lots=core.position,
        pnl_notional_units=pnl,
        pnl_quote=None if pnl is None else str(units_to_quote(runner.link.spec, pnl)),
        quotes=tuple(
            QuoteStatus(o.side.name.lower(), o.price, o.remaining, o.level, o.cancel_sent) for o in working
        ),
        quoted_spread_ticks=_spread(working),
        feed=FeedStatus(
            synced=fs.book_synced,
            book_age_ms=None if book_rx is None else (now_ns - book_rx) / 1e6,
            market_messages=stats.market_messages,
            book_messages=stats.book_messages,
            book_snapshots=stats.book_snapshots,
            resyncs=max(stats.book_snapshots - 1, 0),
            gaps=runner.feed_gaps(),
        ),
        cycle=_cycle_status(runner, latency),
        flow=OrderFlowStatus(
            quotes=core.orders.counts["placed"],
            cancels=core.orders.counts["cancels"],
            fills=core.metrics.fills,
            rejects=dict(core.metrics.rejects),
            fallbacks=dict(core.metrics.fallbacks),
            refusals=dict(core.risk.refusals),
            model_errors=stats.model_errors,
            send_errors=stats.send_errors,
            alerts=dict(stats.alerts),
        ),
    )


def _cycle_status(runner: MarketRunner, latency: bool) -> CycleStatus:
    stats = runner.stats
    counts = (stats.cycles, stats.missed_cycles, stats.batches)
    if not latency:
        return CycleStatus(*counts, None, None, None, None, None, None)
    return CycleStatus(
        *counts,
        p50_us=stats.cycle_ns.percentile_us(50),
        p99_us=stats.cycle_ns.percentile_us(99),
        max_us=stats.cycle_ns.max_us(),
        tick_to_order_p99_us=stats.tick_to_order_ns.percentile_us(99),
        inference_p99_us=stats.inference_ns.percentile_us(99),
        jitter_p99_us=stats.jitter_ns.percentile_us(99),
    )


def _pnl_units(runner: MarketRunner, mid_x2: int) -> int:
    """The core holds the trading position and the cash change since the ledger's opening balance."""
    core = runner.core
    return core.cash + core.position * mid_x2 * NOTIONAL_SCALE // 2


def units_to_quote(spec: MarketSpec, units: int) -> Decimal:
    return Decimal(units) * spec.tick_size * spec.lot_size / NOTIONAL_SCALE


def _spread(working: tuple[Any, ...]) -> int | None:
    bids = [o.price for o in working if o.side is Side.BUY and not o.cancel_sent]
    asks = [o.price for o in working if o.side is Side.SELL and not o.cancel_sent]
    return min(asks) - max(bids) if bids and asks else None
