"""Assembling one market's trading core for the runtime from the engine settings."""

from __future__ import annotations

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.execution.client_ids import ClientIdSource, SequenceStore
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.risk.limits import limits_for
from flashmm_engine.service.clock import Clock
from flashmm_engine.strategy.avellaneda import MarketMakerQuoter, QuoterParams
from flashmm_engine.strategy.ml_skew import SkewParams
from flashmm_engine.types import MarketSpec


def build_core(
    spec: MarketSpec, settings: EngineSettings, store: SequenceStore, clock: Clock, with_model: bool
) -> TradingCore:
    params = QuoterParams(
        order_size=settings.order_lots,
        min_spread_ticks=settings.min_spread_ticks,
        max_spread_ticks=settings.max_spread_ticks,
        skew=SkewParams() if with_model else None,
    )
    limits = limits_for(spec, settings.max_notional_quote)
    return TradingCore(
        spec,
        clock,
        MarketMakerQuoter(spec.symbol, params),
        RiskGate(limits, clock.now_ns()),
        OrderManager(spec.symbol),
        ClientIdSource(settings.instance_id, store),
    )
