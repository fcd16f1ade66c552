"""Static per-market settings of the matching engine."""

from __future__ import annotations

from dataclasses import dataclass

from flashmm_engine.types import MarketSpec


@dataclass(frozen=True, slots=True)
class SimMarket:
    """A market the engine trades. Fees are in ppm of notional (negative = rebate).

    `allow_short`: sells need no base balance (a perpetual-style position); otherwise a sell reserves base.
    `check_quote`: buys reserve quote (price x size plus the worst-case fee); off = unlimited credit.
    """

    spec: MarketSpec
    maker_fee_ppm: int = 0
    taker_fee_ppm: int = 0
    allow_short: bool = False
    check_quote: bool = True

    @property
    def name(self) -> str:
        return self.spec.symbol

    @property
    def max_fee_ppm(self) -> int:
        return max(self.maker_fee_ppm, self.taker_fee_ppm)
