"""Settings of the trading core: quoting (FLASHMM_QUOTING__*) and pre-trade risk (FLASHMM_RISK__*)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class QuotingSettings(BaseModel):
    base: Literal["as", "glft"] = Field(
        default="glft", description="Base quotes: Avellaneda-Stoikov or GLFT."
    )
    gamma: float = Field(default=0.05, gt=0, description="Risk aversion (per tick^2 and order-size unit).")
    horizon_s: float = Field(default=1.0, gt=0, description="Avellaneda-Stoikov's constant horizon T-t (s).")
    order_size_lots: int = Field(default=1, ge=1, description="Lots per quote.")
    levels: int = Field(default=1, ge=1, le=10, description="Quotes per side.")
    level_spacing_ticks: int = Field(default=1, ge=1, description="Ticks between levels.")
    min_spread_ticks: int = Field(default=1, ge=1, description="Narrowest ask - bid.")
    max_spread_ticks: int = Field(default=500, ge=1, description="Widest ask - bid.")
    default_a_per_s: float = Field(default=1.0, gt=0, description="Fill intensity A until calibrated.")
    default_k_per_tick: float = Field(default=0.5, gt=0, description="Intensity decay k until calibrated.")
    calibration_window_s: float = Field(default=600.0, gt=0, description="Trades kept for calibration.")
    calibration_min_trades: int = Field(default=100, ge=2, description="Trades needed to calibrate.")
    recalibrate_every_s: float = Field(default=5.0, gt=0, description="Seconds between fits of A and k.")
    vol_half_life_s: float = Field(default=30.0, gt=0, description="Half-life of the mid volatility EWM.")
    ml_max_shift_ticks: float = Field(default=3.0, ge=0, description="Bound of the model's price shift.")
    ml_return_gain: float = Field(default=1.0, ge=0, description="Share of the expected return applied.")
    ml_asymmetry: float = Field(default=0.5, ge=0, lt=1, description="How far direction skews the sides.")
    ml_uncertainty_widen: float = Field(default=0.5, ge=0, description="Spread x (1+this) at max entropy.")
    ml_max_age_ms: int = Field(default=1_000, ge=1, description="An older prediction is stale.")
    ml_inference_budget_us: int = Field(default=5_000, ge=1, description="A slower inference is not used.")


class RiskSettings(BaseModel):
    max_notional: Decimal = Field(
        default=Decimal(2000), gt=0, description="Per market: |position| x price, worst case, quote currency."
    )
    max_position_lots: int | None = Field(
        default=None, ge=1, description="Per market, worst case; unset = none."
    )
    max_order_lots: int = Field(default=1_000_000, ge=1, description="Largest single order.")
    max_daily_loss: Decimal | None = Field(
        default=None, gt=0, description="Quote currency; beyond it the market halts until the next UTC day."
    )
    max_drawdown: Decimal | None = Field(
        default=None, gt=0, description="Quote currency below the equity peak; beyond it the market reduces."
    )
    max_orders_per_s: int = Field(default=50, ge=1, description="New orders per second per market.")
    max_orders_per_min: int = Field(default=1_500, ge=1, description="New orders per minute per market.")
    price_band_bps: int = Field(default=500, ge=1, description="No order further than this from the mid.")
    stale_feed_ms: int = Field(default=1_000, ge=1, description="Older book: quotes are pulled.")
    max_working_orders: int = Field(default=32, ge=1, description="Working orders per market.")
    reject_storm: int = Field(default=20, ge=1, description="Rejects in a row that halt a market.")
    ack_timeout_ms: int = Field(default=2_000, ge=1, description="Unanswered order -> venue query.")
