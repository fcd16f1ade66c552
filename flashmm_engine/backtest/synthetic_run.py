"""A backtest on a synthetic session: agents' flow and the trading core share one matching engine."""

from __future__ import annotations

import time
from typing import Any

from flashmm_engine.backtest.build import ACCOUNT, BacktestOptions, build_core, latencies, summarize
from flashmm_engine.backtest.feeds import ExchangeFeed, MarketTime
from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.backtest.session import Session
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import NS_PER_MS, NS_PER_S
from flashmm_engine.venues.sim.exchange import EngineExchange
from flashmm_engine.venues.sim.from_settings import sim_spec, synthetic_params
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.synthetic import SyntheticFlow


def backtest_synthetic(seconds: float, settings: SimSettings, opts: BacktestOptions) -> dict[str, Any]:
    if opts.model_dir is not None:
        raise ValueError("a model needs recorded market data: use a capture FILE, not --synthetic")
    spec = sim_spec(settings)
    engine = MatchingEngine([SimMarket(spec, opts.maker_fee_ppm, opts.taker_fee_ppm, allow_short=True)])
    engine.fund(ACCOUNT, spec.symbol, quote=10**30)
    flow = SyntheticFlow(engine, spec.symbol, synthetic_params(settings), settings.synthetic.seed, start_ns=0)
    exchange = EngineExchange(engine, spec.symbol)
    clock = ManualClock(0)
    core = build_core(spec, opts, clock)
    market_time = MarketTime()
    feed = ExchangeFeed(exchange, spec.symbol, market_time, core)
    report = BacktestReport(spec)
    order_latency, response_latency = latencies(opts)
    interval = opts.decision_interval_ms * NS_PER_MS
    session = Session(exchange, core, feed, ACCOUNT, order_latency, response_latency, report, clock, interval)
    end = round(seconds * NS_PER_S)
    events = 0
    started = time.perf_counter()
    while flow.next_time() <= end:
        t = flow.next_time()
        if t >= session.next_wake:
            session.advance(t)
        session.on_exchange_events(flow.step(), t)
        market_time.ts = t
        events += 1
    wall = time.perf_counter() - started
    report.mark_final(end, exchange.top())
    return {
        "events": events,
        "seconds": round(wall, 4),
        "events_per_s": round(events / wall) if wall > 0 else None,
        "market_seconds": seconds,
        **summarize(report, core, opts),
        "mode": "synthetic",
        "seed": settings.synthetic.seed,
    }
