"""One market's resting orders: price levels in FIFO order, best prices kept sorted."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from flashmm_engine.types import Side, TimeInForce


@dataclass(slots=True)
class RestingOrder:
    """An order the engine has accepted. `remaining` shrinks with every fill."""

    venue_order_id: str
    client_id: str
    account: str
    market: str
    side: Side
    price: int
    size: int
    remaining: int
    tif: TimeInForce
    ts: int

    @property
    def filled(self) -> int:
        return self.size - self.remaining


class SideBook:
    """One side of a book: price -> FIFO queue, plus a sorted price list for the best price and each
    level's total remaining size (kept as orders rest, fill and leave: reading depth is then O(levels))."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, deque[RestingOrder]] = {}
        self._sizes: dict[int, int] = {}
        self._prices: list[int] = []  # ascending

    def best(self) -> int | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.side is Side.BUY else self._prices[0]

    def prices(self) -> list[int]:
        return self._prices[::-1] if self.side is Side.BUY else list(self._prices)

    def add(self, order: RestingOrder) -> None:
        queue = self.levels.get(order.price)
        if queue is None:
            queue = self.levels[order.price] = deque()
            self._sizes[order.price] = 0
            bisect.insort(self._prices, order.price)
        queue.append(order)
        self._sizes[order.price] += order.remaining

    def filled(self, order: RestingOrder, size: int) -> None:
        """`size` of the resting `order` traded: call before its `remaining` shrinks."""
        self._sizes[order.price] -= size

    def remove(self, order: RestingOrder) -> None:
        queue = self.levels[order.price]
        queue.remove(order)
        self._sizes[order.price] -= order.remaining
        if not queue:
            self._drop_level(order.price)

    def pop_front(self, price: int) -> None:
        queue = self.levels[price]
        self._sizes[price] -= queue.popleft().remaining
        if not queue:
            self._drop_level(price)

    def _drop_level(self, price: int) -> None:
        del self.levels[price]
        del self._sizes[price]
        del self._prices[bisect.bisect_left(self._prices, price)]

    def level_size(self, price: int) -> int:
        return self._sizes.get(price, 0)

    def depth(self, n: int) -> list[tuple[int, int]]:
        """The best n levels as (price, total remaining size), best first."""
        prices = self._prices[::-1] if self.side is Side.BUY else self._prices
        return [(p, self.level_size(p)) for p in prices[:n]]

    def __iter__(self) -> Iterator[RestingOrder]:
        for queue in self.levels.values():
            yield from queue

    def crosses(self, price: int) -> bool:
        """True if an incoming order of the opposite side at `price` would trade against this side."""
        best = self.best()
        if best is None:
            return False
        return price <= best if self.side is Side.BUY else price >= best
