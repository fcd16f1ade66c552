"""Prometheus metrics on a per-process registry (never the global default, so tests stay isolated).

The cycle pays only for two latency observations (cycle and inference): a bisect and two integer adds on a
plain `LatencyHistogram`, with no lock, because the cycle and the scrape both run on the engine's one event
loop (prometheus-client's own `Histogram.observe` takes two locks and costs several times more). Every
counter and gauge is read at scrape time from the engine's status snapshot by a custom collector, so the
5 Hz cycle does no metrics work for them at all.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from flashmm_engine.engine.status import EngineStatus, MarketStatus
from flashmm_engine.types import TradingState

PREFIX = "flashmm"
CYCLE_BUCKETS_S = (
    50e-6,
    100e-6,
    200e-6,
    500e-6,
    1e-3,
    2e-3,
    5e-3,
    10e-3,
    20e-3,
    50e-3,
    100e-3,
    200e-3,
)
INFERENCE_BUCKETS_S = (10e-6, 25e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LatencyHistogram:
    """Cumulative latency buckets of one series (ns in, seconds out); touched on the event loop only."""

    __slots__ = ("_le", "bounds_ns", "counts", "sum_ns")

    def __init__(self, bounds_s: tuple[float, ...]) -> None:
        self.bounds_ns = tuple(round(b * 1e9) for b in bounds_s)
        self.counts = [0] * (len(bounds_s) + 1)
        self.sum_ns = 0
        self._le = [repr(float(b)) for b in bounds_s] + ["+Inf"]

    def observe_ns(self, ns: int) -> None:
        self.counts[bisect_left(self.bounds_ns, ns)] += 1
        self.sum_ns += ns

    def cumulative(self) -> list[tuple[str, float]]:
        out, total = [], 0
        for le, n in zip(self._le, self.counts, strict=True):
            total += n
            out.append((le, float(total)))
        return out


class EngineMetrics:
    def __init__(self, snapshot: Callable[[], EngineStatus]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.cycle: dict[str, LatencyHistogram] = {}
        self.inference: dict[str, LatencyHistogram] = {}
        self.registry.register(LatencyCollector(self))
        self.registry.register(StatusCollector(snapshot))

    def cycle_observer(self, market: str) -> Callable[[int], None]:
        return self.cycle.setdefault(market, LatencyHistogram(CYCLE_BUCKETS_S)).observe_ns

    def inference_observer(self, market: str) -> Callable[[int], None]:
        return self.inference.setdefault(market, LatencyHistogram(INFERENCE_BUCKETS_S)).observe_ns

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class LatencyCollector(Collector):
    def __init__(self, metrics: EngineMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        for name, doc, series in (
            ("cycle_seconds", "Quote cycle: features, quoter, risk, diff and the send.", self._metrics.cycle),
            ("inference_seconds", "One model prediction.", self._metrics.inference),
        ):
            family = HistogramMetricFamily(f"{PREFIX}_{name}", doc, labels=["market"])
            for market, hist in series.items():
                family.add_metric([market], hist.cumulative(), hist.sum_ns / 1e9)
            yield family


class StatusCollector(Collector):
    """Counters and gauges from one status snapshot per scrape."""

    def __init__(self, snapshot: Callable[[], EngineStatus]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        status = self._snapshot()
        yield from _engine_metrics(status)
        yield from _market_counters(status.markets)
        yield from _market_gauges(status.markets)


def _counter(name: str, doc: str, labels: list[str] | None = None) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=["market", *(labels or [])])


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=["market", *(labels or [])])


def _engine_metrics(status: EngineStatus) -> Iterator[Metric]:
    model = status.model
    info = InfoMetricFamily(f"{PREFIX}_model", "The deployed model.", labels=["name", "version"])
    info.add_metric([model.name or "", model.version or "none"], {})
    yield info
    age = GaugeMetricFamily(f"{PREFIX}_model_age_seconds", "Since the deployed model was swapped in.")
    if status.model_age_s is not None:
        age.add_metric([], status.model_age_s)
    yield age
    yield CounterMetricFamily(
        f"{PREFIX}_model_refusals", "Model versions refused by the reload checks.", value=model.refusals
    )
    yield CounterMetricFamily(
        f"{PREFIX}_model_reloads", "Model versions swapped in while running.", value=model.reloads
    )
    yield GaugeMetricFamily(f"{PREFIX}_ready", "1 when reconciled and quoting.", value=int(status.ready))
    yield GaugeMetricFamily(f"{PREFIX}_uptime_seconds", "Since the engine started.", value=status.uptime_s)


def _market_counters(markets: tuple[MarketStatus, ...]) -> Iterator[Metric]:
    quotes = _counter("quotes", "Orders placed.")
    cancels = _counter("cancels", "Cancels sent.")
    fills = _counter("fills", "Fills applied (after the ledger made them durable).")
    cycles = _counter("cycles", "Quote cycles run.")
    missed = _counter("missed_cycles", "Grid ticks skipped because a cycle overran.")
    rejects = _counter("rejects", "Orders the venue rejected.", ["reason"])
    fallbacks = _counter("fallbacks", "Cycles quoted without the model.", ["reason"])
    refusals = _counter("risk_refusals", "Quotes or orders the risk gate refused.", ["reason"])
    gaps = _counter("feed_gaps", "Messages the venue link lost (resume gaps, dropped market data).")
    resyncs = _counter("feed_resyncs", "Book snapshots that replaced a book out of sync.")
    alerts = _counter("alerts", "Runtime alerts.", ["kind"])
    for m in markets:
        label = [m.market]
        f = m.flow
        quotes.add_metric(label, f.quotes)
        cancels.add_metric(label, f.cancels)
        fills.add_metric(label, f.fills)
        cycles.add_metric(label, m.cycle.cycles)
        missed.add_metric(label, m.cycle.missed_cycles)
        gaps.add_metric(label, m.feed.gaps)
        resyncs.add_metric(label, m.feed.resyncs)
        for family, counts in (
            (rejects, f.rejects),
            (fallbacks, f.fallbacks),
            (refusals, f.refusals),
            (alerts, f.alerts),
        ):
            for reason, n in counts.items():
                family.add_metric([m.market, reason], n)
    yield from (quotes, cancels, fills, cycles, missed, rejects, fallbacks, refusals, gaps, resyncs, alerts)


def _market_gauges(markets: tuple[MarketStatus, ...]) -> Iterator[Metric]:
    position = _gauge("position_lots", "Trading position since the opening balance.")
    pnl = _gauge("pnl_quote", "Mark-to-market PnL in quote currency, fees included.")
    spread = _gauge("quoted_spread_ticks", "Best working ask minus best working bid.")
    working = _gauge("working_orders", "Orders working at the venue.")
    state = _gauge("market_state", "1 for the market's current trading state.", ["state"])
    book_age = _gauge("feed_book_age_seconds", "Since the last book update was received.")
    synced = _gauge("feed_synced", "1 while the book is in sync.")
    for m in markets:
        label = [m.market]
        position.add_metric(label, m.position_lots)
        if m.pnl_quote is not None:
            pnl.add_metric(label, float(m.pnl_quote))
        if m.quoted_spread_ticks is not None:
            spread.add_metric(label, m.quoted_spread_ticks)
        working.add_metric(label, len(m.quotes))
        for s in TradingState:
            state.add_metric([m.market, s.value], int(m.state == s.value))
        if m.feed.book_age_ms is not None:
            book_age.add_metric(label, m.feed.book_age_ms / 1000)
        synced.add_metric(label, int(m.feed.synced))
    yield from (position, pnl, spread, working, state, book_age, synced)
