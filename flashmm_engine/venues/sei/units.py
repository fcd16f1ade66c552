"""Exact conversions between FlashMM ticks/lots and a contract's chain denoms (integer micro-units)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import NOTIONAL_SCALE, MarketSpec


class UnitError(ValueError):
    """A value cannot be represented exactly in the other unit system."""


def format_decimal(value: Decimal) -> str:
    """Plain decimal string as CosmWasm Decimal expects: no exponent, no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _exact_int(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise UnitError(f"{what} {value} is not a whole number of chain units")
    return int(value)


@dataclass(frozen=True, slots=True)
class DenomMarket:
    """One market's spec plus the chain denoms that carry its base and quote assets."""

    spec: MarketSpec
    base_denom: str
    quote_denom: str
    base_decimals: int
    quote_decimals: int

    @classmethod
    def from_settings(cls, s: SeiSettings) -> DenomMarket:
        base, _, quote = s.market.partition(":")[2].partition("/")
        spec = MarketSpec(s.market, s.tick_size, s.lot_size, base=base, quote=quote)
        return cls(spec, s.base_denom, s.quote_denom, s.base_decimals, s.quote_decimals)

    @property
    def _price_scale(self) -> Decimal:
        return Decimal(10) ** (self.quote_decimals - self.base_decimals)

    def contract_price(self, price_ticks: int) -> Decimal:
        """Quote raw units per base raw unit, the ratio a FIN-style contract stores."""
        return self.spec.ticks_to_price(price_ticks) * self._price_scale

    def price_ticks(self, contract_price: Decimal) -> int:
        return self.spec.price_to_ticks(contract_price / self._price_scale)

    def base_raw(self, size_lots: int) -> int:
        return _exact_int(
            self.spec.lots_to_size(size_lots) * Decimal(10) ** self.base_decimals, "base amount"
        )

    def lots(self, base_raw: int) -> int:
        return self.spec.size_to_lots(Decimal(base_raw) / Decimal(10) ** self.base_decimals)

    def quote_raw(self, price_ticks: int, size_lots: int) -> int:
        return _exact_int(self.contract_price(price_ticks) * self.base_raw(size_lots), "quote amount")

    def quote_raw_to_notional(self, quote_raw: int) -> int:
        quote = Decimal(quote_raw) / Decimal(10) ** self.quote_decimals
        return _exact_int(quote / (self.spec.tick_size * self.spec.lot_size) * NOTIONAL_SCALE, "notional")

    def notional_to_quote_raw(self, units: int) -> int:
        """Rounded down: a fee charged on chain can only be whole raw units."""
        quote = self.spec.notional_to_quote(units) * Decimal(10) ** self.quote_decimals
        return int(quote)
