"""A price-level order book on integer ticks and lots: a snapshot plus absolute-size diffs.

Levels live in one dict per side, so applying a level is O(1). The best price of each side is kept
lazily: raised in O(1) when a better level appears and, when the best level is removed, found on the next
query by stepping tick by tick from the old best (prices are integers; the next level is usually close).
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterable, Sequence
from itertools import compress

BID = 1
ASK = -1


class BookError(ValueError):
    """An update that would corrupt the book (negative size, non-positive price)."""


SCAN_TICKS = 64
"""After the best level goes, look this many ticks past it before falling back to a full max/min."""


class OrderBook:
    __slots__ = ("_best", "_bound", "asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        # per side: the best price if known; else None plus, if known, a bound no level is better than
        self._best: dict[int, int | None] = {BID: None, ASK: None}
        self._bound: dict[int, int | None] = {BID: None, ASK: None}

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self._forget_best()

    def load(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        """Replace the whole book with a snapshot image. Zero-size levels are ignored."""
        new_bids = {p: s for p, s in bids if s}
        new_asks = {p: s for p, s in asks if s}
        _validate(list(new_bids), list(new_bids.values()))
        _validate(list(new_asks), list(new_asks.values()))
        self.bids, self.asks = new_bids, new_asks
        self._forget_best()

    def apply(
        self,
        bid_prices: Sequence[int],
        bid_sizes: Sequence[int],
        ask_prices: Sequence[int],
        ask_sizes: Sequence[int],
    ) -> None:
        """Set each level to its absolute size (0 removes it). Validates all before changing anything."""
        if len(bid_prices) != len(bid_sizes) or len(ask_prices) != len(ask_sizes):
            raise BookError("price and size lists differ in length")
        _validate(bid_prices, bid_sizes)
        _validate(ask_prices, ask_sizes)
        self._apply_side(self.bids, bid_prices, bid_sizes, BID)
        self._apply_side(self.asks, ask_prices, ask_sizes, ASK)

    def set_level(self, side: int, price: int, size: int) -> None:
        _validate((price,), (size,))
        self._apply_side(self.bids if side == BID else self.asks, (price,), (size,), side)

    def _apply_side(
        self, levels: dict[int, int], prices: Sequence[int], sizes: Sequence[int], side: int
    ) -> None:
        if not prices:
            return
        # bulk C-level update, then delete the levels whose final size is 0 (the last write of a price wins)
        levels.update(zip(prices, sizes, strict=True))
        removed = list(compress(prices, map(operator.not_, sizes)))
        for price in removed:
            if levels.get(price) == 0:
                del levels[price]
        best = self._best[side]
        if best is not None and best not in levels:
            self._bound[side] = best  # the old best bounds every remaining level
            best = None
        if len(removed) < len(prices):
            live = compress(prices, sizes)
            candidate = max(live) if side == BID else min(live)
            reference = best if best is not None else self._bound[side]
            if reference is not None and (candidate - reference) * side > 0:
                if candidate in levels:
                    best = candidate
                else:  # set then removed within this update: it still bounds every level
                    best, self._bound[side] = None, candidate
        self._best[side] = best

    def _find_best(self, side: int) -> int | None:
        return find_best(self.bids if side == BID else self.asks, side, self._bound[side])

    def _forget_best(self) -> None:
        self._best[BID] = self._best[ASK] = None
        self._bound[BID] = self._bound[ASK] = None

    def best_bid(self) -> tuple[int, int] | None:
        best = self._best[BID]
        if best is None:
            best = self._best[BID] = self._find_best(BID)
        return None if best is None else (best, self.bids[best])

    def best_ask(self) -> tuple[int, int] | None:
        best = self._best[ASK]
        if best is None:
            best = self._best[ASK] = self._find_best(ASK)
        return None if best is None else (best, self.asks[best])

    def depth(self, side: int, k: int) -> list[tuple[int, int]]:
        """The best `k` levels of one side, best first."""
        return best_levels(self.bids if side == BID else self.asks, side, k)

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]


def find_best(levels: dict[int, int], side: int, bound: int | None) -> int | None:
    """The best price of one side's levels, given a `bound` no level is better than (e.g. the best that was
    just removed): a short tick-by-tick scan from it, then a full max/min. None for an empty side."""
    if not levels:
        return None
    if bound is not None:
        for price in range(bound, bound - SCAN_TICKS * side, -side):
            if price in levels:
                return price
    return max(levels) if side == BID else min(levels)


def best_levels(levels: dict[int, int], side: int, k: int) -> list[tuple[int, int]]:
    """The best `k` (price, size) levels of one side, best first."""
    prices = heapq.nlargest(k, levels) if side == BID else heapq.nsmallest(k, levels)
    return [(p, levels[p]) for p in prices]


def _validate(prices: Sequence[int], sizes: Sequence[int]) -> None:
    if sizes and min(sizes) < 0:
        raise BookError(f"negative size {min(sizes)}")
    if prices and min(prices) <= 0:
        raise BookError(f"non-positive price {min(prices)}")
