"""Backtest options -> the trading core and its parts, and the result summary (shared by every mode)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from flashmm_engine.backtest.report import BacktestReport
from flashmm_engine.execution.client_ids import ClientIdSource, MemorySequenceStore
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.risk.limits import DEFAULT_MAX_NOTIONAL_QUOTE, limits_for
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.strategy.avellaneda import BaseModel, MarketMakerQuoter, QuoterParams
from flashmm_engine.strategy.fixed_spread import FixedSpreadParams, FixedSpreadQuoter
from flashmm_engine.strategy.ml_skew import SkewParams
from flashmm_engine.strategy.prediction import ModelPredictor
from flashmm_engine.strategy.quoter import Quoter
from flashmm_engine.types import NS_PER_MS, MarketSpec, TargetQuotes
from flashmm_engine.venues.sim.latency import ConstantLatency, Latency, parse_latency
from flashmm_engine.venues.sim.market_config import SimMarket

ACCOUNT = "backtest"
INSTANCE_ID = "bt"

StrategyName = Literal["fixed", "mm"]


@dataclass(frozen=True)
class BacktestOptions:
    strategy: StrategyName = "fixed"
    half_spread_ticks: int = 5
    order_size: int = 1
    max_position: int = 10
    """Lots. The fixed quoter stops quoting a side there; for `mm` it is the risk gate's position limit."""
    skew_ticks_per_order: int = 1
    decision_interval_ms: int = 200
    base: BaseModel = "as"
    gamma: float = 0.05
    horizon_s: float = 1.0
    min_spread_ticks: int = 1
    model_dir: Path | None = None
    max_notional_quote: Decimal = DEFAULT_MAX_NOTIONAL_QUOTE
    stale_feed_ms: int = 1_000
    order_latency: str = "10"
    response_latency: str | None = None
    """Defaults to the order latency."""
    feed_latency: str | None = None
    """None = the core sees the book as recorded; else ms or file:PATH, like the order latency."""
    queue: str = "power:2"
    partial_fills: bool = False
    maker_fee_ppm: int = 0
    taker_fee_ppm: int = 0
    seed: int = 0
    book_feed: bool = False
    """mm only: quote on the exchange's own book (as a venue publishes it) instead of the replayed
    FeatureState (no features, no model, no calibration trades)."""
    from_fraction: float = 0.0
    """Trade only after this fraction of the capture's time span (the market is replayed from its start)."""


def margin_sim_market(spec: MarketSpec, opts: BacktestOptions) -> SimMarket:
    """A backtest trades on margin: limits are the risk gate's job, not the balance's."""
    return SimMarket(spec, opts.maker_fee_ppm, opts.taker_fee_ppm, allow_short=True, check_quote=False)


def build_quoter(spec: MarketSpec, opts: BacktestOptions) -> Quoter:
    if opts.strategy == "fixed":
        params = FixedSpreadParams(
            opts.half_spread_ticks, opts.order_size, opts.max_position, opts.skew_ticks_per_order
        )
        return FixedSpreadQuoter(spec.symbol, params)
    # simulated time: inference takes no time, so the inference budget is not applied
    skew = SkewParams(inference_budget_ns=None) if opts.model_dir else None
    quoter_params = QuoterParams(
        model=opts.base,
        gamma=opts.gamma,
        horizon_s=opts.horizon_s,
        order_size=opts.order_size,
        min_spread_ticks=opts.min_spread_ticks,
        skew=skew,
    )
    return MarketMakerQuoter(spec.symbol, quoter_params)


def build_core(
    spec: MarketSpec,
    opts: BacktestOptions,
    clock: ManualClock,
    on_targets: Callable[[int, TargetQuotes], None] | None = None,
) -> TradingCore:
    """The core the backtester runs; the live side of the one-core test builds it here too."""
    limits = limits_for(
        spec,
        opts.max_notional_quote,
        max_position_lots=opts.max_position if opts.strategy == "mm" else None,
        stale_feed_ns=opts.stale_feed_ms * NS_PER_MS,
    )
    return TradingCore(
        spec,
        clock,
        build_quoter(spec, opts),
        RiskGate(limits, clock.now_ns()),
        OrderManager(spec.symbol),
        ClientIdSource(INSTANCE_ID, MemorySequenceStore()),
        on_targets=on_targets,
    )


def feature_spec(model_dir: Path | None) -> FeatureSpec:
    """The model's own feature spec (its manifest pins it), else the default."""
    if model_dir is None:
        return FeatureSpec()
    from flashmm_engine.models.artifact import read_manifest

    return FeatureSpec.from_json_dict(read_manifest(model_dir)["feature_spec"])


def load_predictor(model_dir: Path) -> ModelPredictor:
    from flashmm_engine.models.loader import ModelRefused, load_model

    try:
        loaded = load_model(model_dir)
    except ModelRefused as exc:
        raise ValueError(f"model {model_dir} refused: {exc}") from exc
    return ModelPredictor.from_loaded(loaded, measure_time=False)


def latencies(opts: BacktestOptions) -> tuple[Latency, Latency]:
    order = parse_latency(opts.order_latency, opts.seed)
    response = parse_latency(opts.response_latency, opts.seed + 1) if opts.response_latency else order
    if isinstance(order, ConstantLatency) or opts.response_latency:
        return order, response
    return order, parse_latency(opts.order_latency, opts.seed + 1)


def summarize(report: BacktestReport, core: TradingCore, opts: BacktestOptions) -> dict[str, Any]:
    """The report's figures plus inventory statistics and what the core decided with and without the model."""
    status = core.status()
    path = report.position_path
    lot = float(report.spec.lot_size)
    mean_abs = sum(abs(p) for p in path) / len(path) if path else 0.0
    return {
        **report.summary(),
        "strategy": opts.strategy,
        "base": opts.base if opts.strategy == "mm" else None,
        "model": str(opts.model_dir) if opts.model_dir else None,
        "inventory": {
            "mean_abs_position": mean_abs * lot,
            "mean_position": (sum(path) / len(path) if path else 0.0) * lot,
            "max_abs_position": max((abs(p) for p in path), default=0) * lot,
            "time_flat": sum(1 for p in path if p == 0) / len(path) if path else 0.0,
        },
        "decisions_with_model": status["model_cycles"],
        "decisions_fallback": sum(status["fallbacks"].values()),
        "fallbacks": status["fallbacks"],
        "risk_refusals": status["refusals"],
        "rejects": status["rejects"],
        "bad_input": status["bad_input"],
        "busy_cycles": core.metrics.busy_cycles,
    }
