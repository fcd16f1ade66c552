"""Assemble and run a backtest: market mode + matching engine + latency + strategy + report."""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashmm_engine.backtest.replay import run_replay
from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.backtest.session import Session
from flashmm_engine.marketdata.normalize import NormalizedTables, normalize
from flashmm_engine.strategy.fixed_spread import FixedSpreadParams, FixedSpreadStrategy
from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.captures import open_capture
from flashmm_engine.venues.sim.columns import EventColumns, merge_tables
from flashmm_engine.venues.sim.latency import ConstantLatency, Latency, parse_latency
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.queue import parse_queue_model
from flashmm_engine.venues.sim.replay_market import ReplayMarket

log = logging.getLogger(__name__)

ACCOUNT = "backtest"


@dataclass(frozen=True)
class BacktestOptions:
    half_spread_ticks: int = 5
    order_size: int = 1
    max_position: int = 10
    skew_ticks_per_order: int = 1
    decision_interval_ms: int = 200
    order_latency: str = "10"
    response_latency: str | None = None
    """Defaults to the order latency."""
    feed_latency: str | None = None
    """None = the strategy sees the book as recorded; else ms or file:PATH, like the order latency."""
    queue: str = "power:2"
    partial_fills: bool = False
    maker_fee_ppm: int = 0
    taker_fee_ppm: int = 0
    seed: int = 0


def backtest_capture(
    path: Path,
    market: str | None,
    opts: BacktestOptions,
    symbol: str | None = None,
    exchange_info: Path | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    source, info = open_capture(path, market, symbol, exchange_info)
    tables, _ = normalize(source, info)
    load_s = time.perf_counter() - started
    result = backtest_tables(tables, opts)
    return {**info.describe(), **result, "load_seconds": round(load_s, 3)}


def backtest_tables(tables: NormalizedTables, opts: BacktestOptions) -> dict[str, Any]:
    started = time.perf_counter()
    columns = merge_tables(tables)
    merge_s = time.perf_counter() - started
    return {**run_columns(columns, tables.spec, opts), "merge_seconds": round(merge_s, 3)}


def sim_market(spec: MarketSpec, opts: BacktestOptions) -> SimMarket:
    # a backtest trades on margin: position limits are the strategy's job, not the balance's
    return SimMarket(spec, opts.maker_fee_ppm, opts.taker_fee_ppm, allow_short=True, check_quote=False)


def make_strategy(spec: MarketSpec, opts: BacktestOptions) -> FixedSpreadStrategy:
    params = FixedSpreadParams(
        market=spec.symbol,
        half_spread_ticks=opts.half_spread_ticks,
        order_size=opts.order_size,
        max_position=opts.max_position,
        skew_ticks_per_order=opts.skew_ticks_per_order,
        decision_interval_ms=opts.decision_interval_ms,
    )
    return FixedSpreadStrategy(params)


def latencies(opts: BacktestOptions) -> tuple[Latency, Latency]:
    order = parse_latency(opts.order_latency, opts.seed)
    response = parse_latency(opts.response_latency, opts.seed + 1) if opts.response_latency else order
    if isinstance(order, ConstantLatency) or opts.response_latency:
        return order, response
    return order, parse_latency(opts.order_latency, opts.seed + 1)


def feed_latency(opts: BacktestOptions) -> Latency | None:
    return parse_latency(opts.feed_latency, opts.seed + 2) if opts.feed_latency else None


def run_columns(columns: EventColumns, spec: MarketSpec, opts: BacktestOptions) -> dict[str, Any]:
    if not len(columns):
        raise ValueError("the capture holds no book or trade events")
    engine = MatchingEngine([sim_market(spec, opts)])
    market = ReplayMarket(engine, spec.symbol, parse_queue_model(opts.queue), opts.partial_fills)
    strategy = make_strategy(spec, opts)
    report = BacktestReport(spec)
    order_latency, response_latency = latencies(opts)
    session = Session(
        market, strategy, ACCOUNT, order_latency, response_latency, report, columns.ts[0], feed_latency(opts)
    )
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loop creates no reference cycles; collector passes only cost time here
    try:
        started = time.perf_counter()
        events = run_replay(columns, market, session)
        loop_s = time.perf_counter() - started
    finally:
        if gc_was_enabled:
            gc.enable()
    report.mark_final(columns.ts[-1], market.top())
    span_s = (columns.ts[-1] - columns.ts[0]) / 1e9
    log.info("replayed %d events (%.0f s of market) in %.3f s", events, span_s, loop_s)
    return {
        "events": events,
        "seconds": round(loop_s, 4),
        "events_per_s": round(events / loop_s) if loop_s > 0 else None,
        "market_seconds": round(span_s, 1),
        **report.summary(),
        "queue": opts.queue,
        "order_latency": opts.order_latency,
    }
