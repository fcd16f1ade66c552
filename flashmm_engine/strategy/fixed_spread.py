"""A fixed-spread quoter: the reference of the backtester and the peer cross-check against hftbacktest.

One quote per side, `half_spread_ticks` from the mid, shifted against the inventory, never inside the
touch; a side is dropped when the position reaches `max_position` on it. The trading core's diffing then
keeps a working order at the target price and cancels and replaces the others in the same cycle, which
is exactly what tests/bench/hftbacktest_compare.py does on hftbacktest's side.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashmm_engine.types import BookTop, MarketView, Quote, Side, TargetQuotes, Trade


@dataclass(frozen=True, slots=True)
class FixedSpreadParams:
    half_spread_ticks: int = 5
    order_size: int = 1
    max_position: int = 10
    skew_ticks_per_order: int = 1
    """Quotes move this many ticks against each `order_size` of inventory."""


class FixedSpreadQuoter:
    def __init__(self, market: str, params: FixedSpreadParams) -> None:
        self.market = market
        self.params = params

    def on_market_trade(self, trade: Trade, mid_x2: int | None) -> None:
        """The fixed spread does not calibrate."""

    def quote(self, view: MarketView) -> TargetQuotes:
        top = view.top
        if top is None:
            return TargetQuotes(self.market, ())
        p, position = self.params, view.position
        bid, ask = self.prices(top, position)
        quotes = []
        if position < p.max_position:
            quotes.append(Quote(Side.BUY, bid, p.order_size))
        if position > -p.max_position:
            quotes.append(Quote(Side.SELL, ask, p.order_size))
        return TargetQuotes(self.market, tuple(quotes))

    def prices(self, top: BookTop, position: int) -> tuple[int, int]:
        p = self.params
        mid2 = top.mid_x2
        skew = -(position * p.skew_ticks_per_order) // p.order_size
        bid = (mid2 - 2 * p.half_spread_ticks) // 2 + skew
        ask = -((-(mid2 + 2 * p.half_spread_ticks)) // 2) + skew
        return min(bid, top.bid_price), max(ask, top.ask_price)
