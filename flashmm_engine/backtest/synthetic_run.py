"""A backtest on a synthetic session: agents' flow and our strategy share one matching engine."""

from __future__ import annotations

import time
from typing import Any

from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.backtest.run import ACCOUNT, BacktestOptions, latencies, make_strategy
from flashmm_engine.backtest.session import Session
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.types import NS_PER_S
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.setup import EngineExchange, sim_spec, synthetic_params
from flashmm_engine.venues.sim.synthetic import SyntheticFlow


def backtest_synthetic(seconds: float, settings: SimSettings, opts: BacktestOptions) -> dict[str, Any]:
    spec = sim_spec(settings)
    engine = MatchingEngine([SimMarket(spec, opts.maker_fee_ppm, opts.taker_fee_ppm, allow_short=True)])
    engine.fund(ACCOUNT, spec.symbol, quote=10**30)
    flow = SyntheticFlow(engine, spec.symbol, synthetic_params(settings), settings.synthetic.seed, start_ns=0)
    exchange = EngineExchange(engine, spec.symbol)
    report = BacktestReport(spec)
    order_latency, response_latency = latencies(opts)
    session = Session(
        exchange, make_strategy(spec, opts), ACCOUNT, order_latency, response_latency, report, 0
    )
    end = round(seconds * NS_PER_S)
    events = 0
    started = time.perf_counter()
    while flow.next_time() <= end:
        t = flow.next_time()
        if t >= session.next_wake:
            session.advance(t)
        session.on_exchange_events(flow.step(), t)
        events += 1
    wall = time.perf_counter() - started
    report.mark_final(end, exchange.top())
    return {
        "events": events,
        "seconds": round(wall, 4),
        "events_per_s": round(events / wall) if wall > 0 else None,
        "market_seconds": seconds,
        **report.summary(),
        "mode": "synthetic",
        "seed": settings.synthetic.seed,
    }
