"""Stylized facts of the synthetic market: spreads, imbalance predictiveness, volatility, trade rate."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

from flashmm_engine.types import NS_PER_S, MarketSpec, Side
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.synthetic import SyntheticFlow, SyntheticParams


def describe(spec: MarketSpec, params: SyntheticParams, seed: int, seconds: float) -> dict[str, Any]:
    engine = MatchingEngine([SimMarket(spec, allow_short=True)])
    market = spec.symbol
    flow = SyntheticFlow(engine, market, params, seed, start_ns=0)
    end = round(seconds * NS_PER_S)
    spread_time: Counter[int] = Counter()
    hits = moves = 0
    mids_per_second: list[float] = []
    last_t, last_mid2, last_imbalance = 0, None, 0.0
    trades = lots = 0
    while flow.next_time() <= end:
        flow.step()
        t = flow.now
        for trade in engine.take_public_trades():
            trades += 1
            lots += trade.size
        bid, ask = engine.best_bid(market), engine.best_ask(market)
        if bid is None or ask is None:
            continue
        mid2 = bid + ask
        if last_mid2 is not None and mid2 != last_mid2 and last_imbalance != 0:
            moves += 1
            hits += (mid2 > last_mid2) == (last_imbalance > 0)
        spread_time[ask - bid] += t - last_t
        while len(mids_per_second) * NS_PER_S <= t:
            mids_per_second.append(mid2 / 2)
        qb, qa = engine.level_size(market, Side.BUY, bid), engine.level_size(market, Side.SELL, ask)
        last_t, last_mid2, last_imbalance = t, mid2, (qb - qa) / (qb + qa)
    total = sum(spread_time.values()) or 1
    returns = [math.log(b / a) for a, b in itertools.pairwise(mids_per_second)]
    vol = _std(returns)
    return {
        "seconds": seconds,
        "seed": seed,
        "spread_ticks_distribution": {str(k): round(v / total, 4) for k, v in sorted(spread_time.items())},
        "mean_spread_ticks": round(sum(k * v for k, v in spread_time.items()) / total, 3),
        "imbalance_direction_accuracy": round(hits / moves, 4) if moves else None,
        "mid_moves": moves,
        "volatility_bps_per_sqrt_s": round(vol * 1e4, 3),
        "volatility_annualized": round(vol * math.sqrt(365 * 24 * 3600), 4),
        "trade_rate_per_s": round(trades / seconds, 3),
        "mean_trade_lots": round(lots / trades, 2) if trades else None,
    }


def _std(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
