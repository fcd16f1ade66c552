"""Assemble and run a backtest on a capture: replayed market + matching engine + latency + the trading core.

`--strategy fixed` runs the core with the fixed-spread quoter on the exchange's book (the hftbacktest
cross-check); `--strategy mm` runs it with the AS/GLFT quoter on the replayed `FeatureState`, with the model
in the loop when one is given.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from flashmm_engine.backtest.build import (
    ACCOUNT,
    BacktestOptions,
    build_core,
    feature_spec,
    latencies,
    load_predictor,
    margin_sim_market,
    summarize,
)
from flashmm_engine.backtest.feeds import ExchangeFeed, FeatureFeed, MarketTime, TableEvents
from flashmm_engine.backtest.replay import run_replay
from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.backtest.session import BacktestFeed, Session
from flashmm_engine.marketdata.normalize import NormalizedTables, normalize
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import NS_PER_MS, MarketEvent, MarketSpec, TargetQuotes
from flashmm_engine.venues.captures import open_capture
from flashmm_engine.venues.sim.latency import parse_latency
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.queue import parse_queue_model
from flashmm_engine.venues.sim.replay_columns import EventColumns, merge_tables
from flashmm_engine.venues.sim.replay_market import ReplayMarket

log = logging.getLogger(__name__)

__all__ = ["BacktestOptions", "backtest_capture", "backtest_tables", "run_columns"]


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


def backtest_tables(
    tables: NormalizedTables,
    opts: BacktestOptions,
    schedule: Sequence[int] | None = None,
    on_targets: Callable[[int, TargetQuotes], None] | None = None,
) -> dict[str, Any]:
    """`schedule`: explicit cycle times instead of the grid; `on_targets` sees every cycle's targets."""
    started = time.perf_counter()
    columns = merge_tables(tables)
    merge_s = time.perf_counter() - started
    events = None if opts.strategy == "fixed" or opts.book_feed else TableEvents.of(tables)
    result = run_columns(columns, tables.spec, opts, events, schedule, on_targets)
    return {**result, "merge_seconds": round(merge_s, 3)}


def run_columns(
    columns: EventColumns,
    spec: MarketSpec,
    opts: BacktestOptions,
    events: Iterator[MarketEvent] | TableEvents | None = None,
    schedule: Sequence[int] | None = None,
    on_targets: Callable[[int, TargetQuotes], None] | None = None,
) -> dict[str, Any]:
    """The replay on merged columns; `events` (the same capture as types.py events) feed the features."""
    if not len(columns):
        raise ValueError("the capture holds no book or trade events")
    engine = MatchingEngine([margin_sim_market(spec, opts)])
    market = ReplayMarket(engine, spec.symbol, parse_queue_model(opts.queue), opts.partial_fills)
    first, last = columns.ts[0], columns.ts[-1]
    clock = ManualClock(first)
    core = build_core(spec, opts, clock, on_targets)
    market_time = MarketTime()
    feed: BacktestFeed
    feature_feed: FeatureFeed | None = None
    if opts.strategy == "fixed" or opts.book_feed:
        if opts.model_dir is not None:
            raise ValueError("a model needs the feature feed, not the book feed")
        feed = ExchangeFeed(market, spec.symbol, market_time)
    elif events is None:
        raise ValueError("the feature feed needs the capture's events")
    else:
        from flashmm_engine.features.state import FeatureState

        predictor = load_predictor(opts.model_dir) if opts.model_dir else None
        state = FeatureState(feature_spec(opts.model_dir), spec.symbol)
        feed = feature_feed = FeatureFeed(events, state, core, predictor)
    report = BacktestReport(spec)
    order_latency, response_latency = latencies(opts)
    feed_latency = parse_latency(opts.feed_latency, opts.seed + 2) if opts.feed_latency else None
    trade_from = first + round((last - first) * opts.from_fraction)
    session = Session(
        market,
        core,
        feed,
        ACCOUNT,
        order_latency,
        response_latency,
        report,
        clock,
        opts.decision_interval_ms * NS_PER_MS,
        feed_latency,
        start_ns=trade_from,
        schedule=iter(schedule) if schedule is not None else None,
    )
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loop creates no reference cycles; collector passes only cost time here
    try:
        started = time.perf_counter()
        processed = run_replay(columns, market, session, market_time)
        loop_s = time.perf_counter() - started
    finally:
        if gc_was_enabled:
            gc.enable()
    report.mark_final(last, market.top())
    span_s = (last - first) / 1e9
    log.info("replayed %d events (%.0f s of market) in %.3f s", processed, span_s, loop_s)
    model_errors = dict(feature_feed.model_errors) if feature_feed is not None else {}
    return {
        "events": processed,
        "seconds": round(loop_s, 4),
        "events_per_s": round(processed / loop_s) if loop_s > 0 else None,
        "market_seconds": round(span_s, 1),
        "traded_seconds": round((last - trade_from) / 1e9, 1),
        **summarize(report, core, opts),
        "model_errors": model_errors,
        "queue": opts.queue,
        "order_latency": opts.order_latency,
    }
