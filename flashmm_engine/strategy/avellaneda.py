"""The market-making quoter: AS or GLFT base quotes, calibrated intensity, the ML adjustment, rounding.

Floats are used inside; targets come out as integer ticks and lots. Bids round down and asks up (never
tighter than the model), the spread is held within [min, max], no quote crosses the touch (the quotes are
post-only), and further levels step away from the first by `level_spacing_ticks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from flashmm_engine.strategy.formulas import BaseQuote, avellaneda_stoikov, glft
from flashmm_engine.strategy.intensity import Intensity, IntensityCalibrator
from flashmm_engine.strategy.ml_skew import SkewParams, fallback_reason, skew
from flashmm_engine.strategy.volatility import MidVolatility
from flashmm_engine.types import NS_PER_S, MarketView, Quote, Side, TargetQuotes, Trade

BaseModel = Literal["as", "glft"]


@dataclass(frozen=True, slots=True)
class QuoterParams:
    model: BaseModel = "glft"
    gamma: float = 0.05
    horizon_s: float = 1.0
    """Avellaneda-Stoikov's T - t, held constant (GLFT has no horizon)."""
    order_size: int = 1
    levels: int = 1
    level_spacing_ticks: int = 1
    min_spread_ticks: int = 1
    max_spread_ticks: int = 500
    default_a_per_s: float = 1.0
    default_k_per_tick: float = 0.5
    """Intensity used until calibration has enough trades."""
    calibration_window_s: float = 600.0
    calibration_min_trades: int = 100
    recalibrate_every_s: float = 5.0
    vol_half_life_s: float = 30.0
    min_sigma_ticks: float = 0.05
    skew: SkewParams | None = field(default=None)
    """None: plain base quotes, the model is not consulted."""

    def __post_init__(self) -> None:
        if self.order_size < 1 or self.levels < 1 or self.level_spacing_ticks < 1:
            raise ValueError("order size, levels and level spacing must be >= 1")
        if not 1 <= self.min_spread_ticks <= self.max_spread_ticks:
            raise ValueError(f"spread range [{self.min_spread_ticks}, {self.max_spread_ticks}] is invalid")
        if self.gamma <= 0 or self.horizon_s <= 0 or self.recalibrate_every_s <= 0:
            raise ValueError("gamma, horizon and recalibration interval must be > 0")


class MarketMakerQuoter:
    def __init__(self, market: str, params: QuoterParams) -> None:
        self.market = market
        self.params = params
        self.calibrator = IntensityCalibrator(
            round(params.calibration_window_s * NS_PER_S), params.calibration_min_trades
        )
        self.intensity = Intensity(params.default_a_per_s, params.default_k_per_tick, 0)
        self.calibrated = False
        self.volatility = MidVolatility(params.vol_half_life_s)
        self._next_fit_ns: int | None = None

    def on_market_trade(self, trade: Trade, mid_x2: int | None) -> None:
        self.calibrator.on_trade(trade, mid_x2)

    def quote(self, view: MarketView) -> TargetQuotes:
        top = view.top
        if top is None:
            return TargetQuotes(self.market, (), fallback="no_book")
        p = self.params
        now = view.now_ns
        self.volatility.update(now, top.mid_x2)
        self._recalibrate(now)
        mid = top.mid_x2 / 2
        base = self.base(view.position / p.order_size, self.sigma(view, mid))
        offset, bid_depth, ask_depth = base.reservation_offset, base.bid_depth, base.ask_depth
        used, reason = False, None
        if p.skew is not None:
            reason = fallback_reason(
                view.feed.prediction, view.feed.warm, now, p.skew, view.feed.reference_fresh
            )
            if reason is None:
                assert view.feed.prediction is not None
                adj = skew(view.feed.prediction, mid, p.skew)
                offset += adj.shift_ticks
                bid_depth *= adj.bid_factor
                ask_depth *= adj.ask_factor
                used = True
        reservation = mid + offset
        bid, ask = self._round(reservation, bid_depth, ask_depth)
        bid, ask = min(bid, top.ask_price - 1), max(ask, top.bid_price + 1)
        quotes = []
        for level in range(p.levels):
            step = level * p.level_spacing_ticks
            if bid - step >= 1:
                quotes.append(Quote(Side.BUY, bid - step, p.order_size, level))
            quotes.append(Quote(Side.SELL, ask + step, p.order_size, level))
        return TargetQuotes(
            self.market,
            tuple(quotes),
            model_used=used,
            fallback=reason,
            reservation_ticks=reservation,
            half_spread_ticks=(bid_depth + ask_depth) / 2,
        )

    def base(self, q: float, sigma: float) -> BaseQuote:
        p, i = self.params, self.intensity
        if p.model == "as":
            return avellaneda_stoikov(q, p.gamma, sigma, i.k_per_tick, p.horizon_s)
        return glft(q, p.gamma, sigma, i.a_per_s, i.k_per_tick)

    def sigma(self, view: MarketView, mid_ticks: float) -> float:
        feed_vol = view.feed.volatility_bps
        if feed_vol is not None and math.isfinite(feed_vol):
            sigma: float | None = feed_vol * mid_ticks / 10_000
        else:
            sigma = self.volatility.sigma()
        return max(sigma or 0.0, self.params.min_sigma_ticks)

    def _recalibrate(self, now_ns: int) -> None:
        if self._next_fit_ns is not None and now_ns < self._next_fit_ns:
            return
        self._next_fit_ns = now_ns + round(self.params.recalibrate_every_s * NS_PER_S)
        fitted = self.calibrator.fit(now_ns)
        if fitted is not None:
            self.intensity, self.calibrated = fitted, True

    def _round(self, reservation: float, bid_depth: float, ask_depth: float) -> tuple[int, int]:
        p = self.params
        bid = math.floor(reservation - max(bid_depth, 0.0))
        ask = math.ceil(reservation + max(ask_depth, 0.0))
        spread = ask - bid
        if spread < p.min_spread_ticks:
            widen = p.min_spread_ticks - spread
            bid -= widen // 2
            ask += widen - widen // 2
        elif spread > p.max_spread_ticks:
            shrink = spread - p.max_spread_ticks
            bid += shrink // 2
            ask -= shrink - shrink // 2
        return bid, ask
