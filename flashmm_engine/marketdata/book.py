"""A price-level order book on integer ticks and lots: a snapshot plus absolute-size diffs.

Levels live in one compiled hash table per side (`book_table`), so applying a level is O(1) and a whole
diff is one call into machine code, from the live connector's lists and from a batch's level arrays alike:
one implementation for both paths. The best price of each side is kept lazily (see `book_table`).
`find_best` and `best_levels` serve dict-based books elsewhere (the simulated venue's).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

import numpy as np

from flashmm_engine.marketdata.book_table import (
    EMPTY,
    NEED_ROOM,
    NEGATIVE_SIZE,
    NONE,
    OK,
    SCAN_TICKS,
    STATE_FIELDS,
    _apply_levels,
    _best,
    _crossed,
    _rehash,
)
from flashmm_engine.marketdata.records import DepthDiff, Ints

BID = 1
ASK = -1
INITIAL_SLOTS = 4096
"""Hash slots per side before the first growth (a power of two)."""
MAX_LOAD = 0.5
"""Levels per slot before the tables double (`_apply_levels` asks for room past it)."""


class BookError(ValueError):
    """An update that would corrupt the book (negative size, non-positive price)."""


class OrderBook:
    __slots__ = ("_keys", "_sizes", "_state")

    def __init__(self) -> None:
        self._keys: Ints = np.zeros((2, INITIAL_SLOTS), dtype=np.int64)  # per side: prices, EMPTY if free
        self._sizes: Ints = np.zeros((2, INITIAL_SLOTS), dtype=np.int64)
        self._state: Ints = np.zeros(STATE_FIELDS, dtype=np.int64)

    @property
    def bids(self) -> dict[int, int]:
        """A copy of the bid levels, price -> size."""
        return self._side(0)

    @property
    def asks(self) -> dict[int, int]:
        return self._side(1)

    def clear(self) -> None:
        self._keys[:] = EMPTY
        self._state[:] = NONE

    def load(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        """Replace the whole book with a snapshot image. Zero-size levels are ignored."""
        new_bids = {p: s for p, s in bids if s}
        new_asks = {p: s for p, s in asks if s}
        _validate(list(new_bids), list(new_bids.values()))
        _validate(list(new_asks), list(new_asks.values()))
        self.clear()
        self.apply(list(new_bids), list(new_bids.values()), list(new_asks), list(new_asks.values()))

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
        try:
            prices = np.array([*bid_prices, *ask_prices], dtype=np.int64)
            sizes = np.array([*bid_sizes, *ask_sizes], dtype=np.int64)
        except OverflowError:
            raise BookError("a price or size beyond int64") from None
        self.apply_levels(prices, sizes, 0, len(bid_prices), len(ask_prices))

    def apply_diff(self, diff: DepthDiff) -> None:
        """A diff's levels: straight from the batch's level arrays when it points into them."""
        if diff.level_pool is None:
            self.apply(diff.bid_prices, diff.bid_sizes, diff.ask_prices, diff.ask_sizes)
        else:
            prices, sizes = diff.level_pool
            self.apply_levels(prices, sizes, diff.levels_at, len(diff.bid_prices), len(diff.ask_prices))

    def apply_levels(self, prices: Ints, sizes: Ints, start: int, bids: int, asks: int) -> None:
        """`bids` bid levels from `prices`/`sizes`[start], then `asks` ask levels, as `apply` does."""
        while True:
            status, value = _apply_levels(
                self._keys, self._sizes, self._state, prices, sizes, start, bids, asks
            )
            if status == OK:
                return
            if status == NEED_ROOM:
                self._grow(value)
            elif status == NEGATIVE_SIZE:
                raise BookError(f"negative size {value}")
            else:
                raise BookError(f"non-positive price {value}")

    def set_level(self, side: int, price: int, size: int) -> None:
        if side == BID:
            self.apply([price], [size], [], [])
        else:
            self.apply([], [], [price], [size])

    def best_bid(self) -> tuple[int, int] | None:
        price, size = _best(self._keys, self._sizes, self._state, 0)
        return None if price == NONE else (price, size)

    def best_ask(self) -> tuple[int, int] | None:
        price, size = _best(self._keys, self._sizes, self._state, 1)
        return None if price == NONE else (price, size)

    def depth(self, side: int, k: int) -> list[tuple[int, int]]:
        """The best `k` levels of one side, best first."""
        return best_levels(self._side(0 if side == BID else 1), side, k)

    def is_crossed(self) -> bool:
        return bool(_crossed(self._keys, self._sizes, self._state))

    def _side(self, row: int) -> dict[int, int]:
        used = self._keys[row] != EMPTY
        return dict(zip(self._keys[row][used].tolist(), self._sizes[row][used].tolist(), strict=True))

    def _grow(self, levels: int) -> None:
        slots = self._keys.shape[1]
        while levels > slots * MAX_LOAD:
            slots *= 2
        keys, sizes = np.zeros((2, slots), dtype=np.int64), np.zeros((2, slots), dtype=np.int64)
        _rehash(self._keys, self._sizes, keys, sizes)
        self._keys, self._sizes = keys, sizes


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
