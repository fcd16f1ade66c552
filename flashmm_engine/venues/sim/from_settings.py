"""Settings -> engine objects for the sim venue and synthetic backtests (Decimal ends here)."""

from __future__ import annotations

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.synthetic import SyntheticParams


def sim_spec(settings: SimSettings) -> MarketSpec:
    return MarketSpec(settings.symbol, settings.tick_size, settings.lot_size, settings.base, settings.quote)


def cash_sim_market(settings: SimSettings) -> SimMarket:
    """The sim venue's market: cash accounts, no short selling, balances checked (unlike a backtest's)."""
    return SimMarket(sim_spec(settings), settings.maker_fee_ppm, settings.taker_fee_ppm, allow_short=False)


def synthetic_params(settings: SimSettings) -> SyntheticParams:
    syn = settings.synthetic
    return SyntheticParams(
        start_price=sim_spec(settings).price_to_ticks(syn.start_price),
        event_rate_per_s=syn.event_rate_per_s,
        mean_reversion_per_s=syn.mean_reversion_per_s,
        fair_vol_ticks_per_sqrt_s=syn.fair_vol_ticks_per_sqrt_s,
        jump_rate_per_s=syn.jump_rate_per_s,
        jump_mean_ticks=syn.jump_mean_ticks,
        imbalance_feedback=syn.imbalance_feedback,
    )
