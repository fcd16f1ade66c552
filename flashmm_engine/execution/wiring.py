"""Settings -> one market's trading core, for the live engine and paper trading (the backtester builds
the same objects from its command-line options in backtest/build.py)."""

from __future__ import annotations

from flashmm_engine.config.trading import QuotingSettings, RiskSettings
from flashmm_engine.execution.client_ids import ClientIdSource
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.risk.limits import RiskLimits, quote_to_notional
from flashmm_engine.service.clock import Clock
from flashmm_engine.strategy.avellaneda import MarketMakerQuoter, QuoterParams
from flashmm_engine.strategy.ml_skew import SkewParams
from flashmm_engine.types import NS_PER_MS, MarketSpec


def quoter_params(q: QuotingSettings, with_model: bool) -> QuoterParams:
    skew = (
        SkewParams(
            max_shift_ticks=q.ml_max_shift_ticks,
            return_gain=q.ml_return_gain,
            asymmetry=q.ml_asymmetry,
            uncertainty_widen=q.ml_uncertainty_widen,
            max_age_ns=q.ml_max_age_ms * NS_PER_MS,
            inference_budget_ns=q.ml_inference_budget_us * 1_000,
        )
        if with_model
        else None
    )
    return QuoterParams(
        model=q.base,
        gamma=q.gamma,
        horizon_s=q.horizon_s,
        order_size=q.order_size_lots,
        levels=q.levels,
        level_spacing_ticks=q.level_spacing_ticks,
        min_spread_ticks=q.min_spread_ticks,
        max_spread_ticks=q.max_spread_ticks,
        default_a_per_s=q.default_a_per_s,
        default_k_per_tick=q.default_k_per_tick,
        calibration_window_s=q.calibration_window_s,
        calibration_min_trades=q.calibration_min_trades,
        recalibrate_every_s=q.recalibrate_every_s,
        vol_half_life_s=q.vol_half_life_s,
        skew=skew,
    )


def risk_limits(spec: MarketSpec, r: RiskSettings) -> RiskLimits:
    return RiskLimits(
        max_notional=quote_to_notional(spec, r.max_notional),
        max_position_lots=r.max_position_lots,
        max_order_lots=r.max_order_lots,
        max_daily_loss=None if r.max_daily_loss is None else quote_to_notional(spec, r.max_daily_loss),
        max_drawdown=None if r.max_drawdown is None else quote_to_notional(spec, r.max_drawdown),
        max_orders_per_s=r.max_orders_per_s,
        max_orders_per_min=r.max_orders_per_min,
        price_band_bps=r.price_band_bps,
        stale_feed_ns=r.stale_feed_ms * NS_PER_MS,
        max_working_orders=r.max_working_orders,
        reject_storm=r.reject_storm,
    )


def core_from_settings(
    spec: MarketSpec,
    clock: Clock,
    quoting: QuotingSettings,
    risk: RiskSettings,
    ids: ClientIdSource,
    with_model: bool,
) -> TradingCore:
    """The core for one market. `with_model`: the quoter applies the ML skew when `FeedView.prediction`
    passes its checks (and reports a fallback reason when it does not)."""
    return TradingCore(
        spec,
        clock,
        MarketMakerQuoter(spec.symbol, quoter_params(quoting, with_model)),
        RiskGate(risk_limits(spec, risk), clock.now_ns()),
        OrderManager(spec.symbol, risk.ack_timeout_ms * NS_PER_MS),
        ids,
    )
