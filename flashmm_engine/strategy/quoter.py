"""The quoter interface: a market view in, target quotes out. Implementations: strategy/fixed_spread.py
(the peer cross-check) and strategy/avellaneda.py (AS / GLFT with the ML adjustment)."""

from __future__ import annotations

from typing import Protocol

from flashmm_engine.types import MarketView, TargetQuotes, Trade


class Quoter(Protocol):
    def quote(self, view: MarketView) -> TargetQuotes:
        """Target quotes for this cycle. Pure with respect to orders: it never sends anything itself."""

    def on_market_trade(self, trade: Trade, mid_x2: int | None) -> None:
        """A public trade of the market, with the mid (x2, ticks) just before it: feeds calibration."""
