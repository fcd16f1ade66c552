"""Settings -> engine objects for the sim venue and synthetic backtests (Decimal ends here)."""

from __future__ import annotations

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.types import BookTop, CancelRequest, MarketSpec, OrderRequest, Side
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import Events, MatchingEngine
from flashmm_engine.venues.sim.synthetic import SyntheticParams


def sim_spec(settings: SimSettings) -> MarketSpec:
    return MarketSpec(settings.symbol, settings.tick_size, settings.lot_size, settings.base, settings.quote)


def sim_market(settings: SimSettings) -> SimMarket:
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


class EngineExchange:
    """The synthetic mode's exchange: our orders meet the agents' orders in the engine (true L3 FIFO)."""

    def __init__(self, engine: MatchingEngine, market: str) -> None:
        self.engine = engine
        self.market = market

    def submit(self, account: str, req: OrderRequest, ts: int) -> Events:
        return self.engine.submit(account, req, ts)

    def cancel(self, account: str, req: CancelRequest, ts: int) -> Events:
        return self.engine.cancel(account, req, ts)

    def top(self) -> BookTop | None:
        bid, ask = self.engine.best_bid(self.market), self.engine.best_ask(self.market)
        if bid is None or ask is None:
            return None
        size = self.engine.level_size
        return BookTop(bid, size(self.market, Side.BUY, bid), ask, size(self.market, Side.SELL, ask))
