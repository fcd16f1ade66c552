"""A price-level order book on integer ticks and lots: a snapshot plus absolute-size diffs.

Levels live in one dict per side, so applying a level is O(1). The best price of each side is kept
lazily: raised in O(1) when a better level appears, and recomputed only when the best level is removed.
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


class OrderBook:
    __slots__ = ("_best_ask", "_best_bid", "asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._best_bid: int | None = None
        self._best_ask: int | None = None

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self._best_bid = self._best_ask = None

    def load(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        """Replace the whole book with a snapshot image. Zero-size levels are ignored."""
        new_bids = {p: s for p, s in bids if s}
        new_asks = {p: s for p, s in asks if s}
        _validate(list(new_bids), list(new_bids.values()))
        _validate(list(new_asks), list(new_asks.values()))
        self.bids, self.asks = new_bids, new_asks
        self._best_bid = self._best_ask = None

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

    def _apply_side(self, levels: dict[int, int], prices: Sequence[int], sizes: Sequence[int], side: int) -> None:
        if not prices:
            return
        # bulk C-level update, then delete the levels whose final size is 0 (the last write of a price wins)
        levels.update(zip(prices, sizes, strict=True))
        removed = list(compress(prices, map(operator.not_, sizes)))
        for price in removed:
            if levels.get(price) == 0:
                del levels[price]
        best = self._best_bid if side == BID else self._best_ask
        if best is not None and best in levels and len(removed) < len(prices):
            candidate = max(compress(prices, sizes)) if side == BID else min(compress(prices, sizes))
            better = candidate > best if side == BID else candidate < best
            if better:
                best = candidate if candidate in levels else None
        elif best is not None and best not in levels:
            best = None  # the best level went away: recomputed lazily when asked
        if side == BID:
            self._best_bid = best
        else:
            self._best_ask = best

    def best_bid(self) -> tuple[int, int] | None:
        if self._best_bid is None and self.bids:
            self._best_bid = max(self.bids)
        return None if self._best_bid is None else (self._best_bid, self.bids[self._best_bid])

    def best_ask(self) -> tuple[int, int] | None:
        if self._best_ask is None and self.asks:
            self._best_ask = min(self.asks)
        return None if self._best_ask is None else (self._best_ask, self.asks[self._best_ask])

    def depth(self, side: int, k: int) -> list[tuple[int, int]]:
        """The best `k` levels of one side, best first."""
        if side == BID:
            return [(p, self.bids[p]) for p in heapq.nlargest(k, self.bids)]
        return [(p, self.asks[p]) for p in heapq.nsmallest(k, self.asks)]

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]


def _validate(prices: Sequence[int], sizes: Sequence[int]) -> None:
    if sizes and min(sizes) < 0:
        raise BookError(f"negative size {min(sizes)}")
    if prices and min(prices) <= 0:
        raise BookError(f"non-positive price {min(prices)}")
