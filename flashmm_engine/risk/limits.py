"""Risk limits of one market, in integer ticks, lots and notional units (types.NOTIONAL_SCALE)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from flashmm_engine.types import NOTIONAL_SCALE, NS_PER_MS, MarketSpec

DEFAULT_MAX_NOTIONAL_QUOTE = Decimal(2000)
"""The seed design's position limit: +-2,000 USDC per market."""


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every limit the pre-trade gate enforces. `None` disables a limit (never the notional one)."""

    max_notional: int
    """|position| x price, worst case, in notional units."""
    max_position_lots: int | None = None
    max_order_lots: int = 1_000_000
    max_daily_loss: int | None = None
    """Notional units; a loss beyond it halts the market until the next UTC day (or a resume)."""
    max_drawdown: int | None = None
    """Notional units below the day's equity peak; beyond it the market only reduces until the next day."""
    max_orders_per_s: int = 50
    max_orders_per_min: int = 1_500
    price_band_bps: int = 500
    """No order further than this from the mid."""
    stale_feed_ns: int = 1_000 * NS_PER_MS
    """A book older than this is stale: quotes are pulled."""
    max_working_orders: int = 32
    reject_storm: int = 20
    """This many rejects in a row (no ack or fill between) halt the market."""

    def __post_init__(self) -> None:
        if self.max_notional <= 0:
            raise ValueError(f"max notional {self.max_notional}: expected > 0")
        for name in ("max_order_lots", "max_orders_per_s", "max_orders_per_min", "max_working_orders"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} {getattr(self, name)}: expected >= 1")
        if self.price_band_bps < 1 or self.stale_feed_ns < 1 or self.reject_storm < 1:
            raise ValueError("price band, stale-feed age and reject storm must be >= 1")


def quote_to_notional(spec: MarketSpec, amount: Decimal) -> int:
    """An amount of quote currency in notional units, rounded down (a limit never grows by rounding)."""
    units = amount * NOTIONAL_SCALE / (spec.tick_size * spec.lot_size)
    return int(units.to_integral_value(rounding=ROUND_FLOOR))


def limits_for(
    spec: MarketSpec,
    max_notional_quote: Decimal = DEFAULT_MAX_NOTIONAL_QUOTE,
    max_daily_loss_quote: Decimal | None = None,
    max_drawdown_quote: Decimal | None = None,
    max_position_lots: int | None = None,
    max_order_lots: int = 1_000_000,
    stale_feed_ns: int = 1_000 * NS_PER_MS,
) -> RiskLimits:
    """Limits from config values in quote currency (Decimal ends here); rates and ages keep defaults."""

    def units(amount: Decimal | None) -> int | None:
        return None if amount is None else quote_to_notional(spec, amount)

    return RiskLimits(
        max_notional=quote_to_notional(spec, max_notional_quote),
        max_position_lots=max_position_lots,
        max_order_lots=max_order_lots,
        max_daily_loss=units(max_daily_loss_quote),
        max_drawdown=units(max_drawdown_quote),
        stale_feed_ns=stale_feed_ns,
    )
