"""Settings for the simulated venue (`flashmm venue sim`) and its synthetic market."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator

from flashmm_engine.config.control import is_loopback


class SyntheticSettings(BaseModel):
    seed: int = Field(default=7, description="Seed of the synthetic order flow (same seed, same market).")
    start_price: Decimal = Field(default=Decimal("2500.00"), gt=0, description="Initial fair value.")
    event_rate_per_s: float = Field(default=120.0, gt=0, description="Agent order events per second.")
    fair_vol_ticks_per_sqrt_s: float = Field(default=4.0, ge=0, description="Fair-value volatility.")
    mean_reversion_per_s: float = Field(default=0.01, ge=0, description="Fair-value pull to the start price.")
    jump_rate_per_s: float = Field(default=0.02, ge=0, description="Fair-value jumps per second.")
    jump_mean_ticks: float = Field(default=6.0, gt=0, description="Mean jump size in ticks.")
    imbalance_feedback: float = Field(
        default=0.8, ge=0, le=1, description="How much takers lean toward the thinner queue (0..1)."
    )
    describe_seconds: float = Field(default=600.0, gt=0, description="Simulated span of --describe.")


class SimSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Bind address of the sim venue websocket.")
    port: int = Field(default=8790, ge=0, le=65535, description="Port of the sim venue (0 = any free).")
    api_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="Account name -> API key (JSON object). Secret; never logged."
    )
    symbol: str = Field(default="SIM:ETHUSD", description="Market name of the simulated market.")
    base: str = Field(default="ETH", description="Base asset.")
    quote: str = Field(default="USD", description="Quote asset.")
    tick_size: Decimal = Field(default=Decimal("0.05"), gt=0, description="Price tick.")
    lot_size: Decimal = Field(default=Decimal("0.001"), gt=0, description="Size lot.")
    maker_fee_ppm: int = Field(default=0, description="Maker fee, ppm of notional (negative = rebate).")
    taker_fee_ppm: int = Field(default=500, description="Taker fee, ppm of notional.")
    fund_base: Decimal = Field(default=Decimal("10"), ge=0, description="Base balance of every account.")
    fund_quote: Decimal = Field(
        default=Decimal("100000"), ge=0, description="Quote balance of every account."
    )
    state_file: Path | None = Field(
        default=None,
        description="Account balances kept across venue restarts (unset: a restart re-funds every account).",
    )
    capture: Path | None = Field(default=None, description="Replay this capture instead of synthetic flow.")
    replay_speed: float = Field(default=1.0, gt=0, description="Replay speed multiplier.")
    queue_model: str = Field(default="power:2", description="Replay queue model: risk-averse or power:N.")
    partial_fills: bool = Field(
        default=False, description="Replay: fill only what got past us (else the whole order, as backtests)."
    )
    synthetic: SyntheticSettings = Field(default_factory=SyntheticSettings)

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        if not is_loopback(host):
            raise ValueError(f"sim.host={host}: the sim venue binds loopback only")
        return host
