"""The compiled core of `OrderBook`: one open-addressing hash table of price -> size per side.

`keys[row]` holds prices (`EMPTY` for a free slot; row 0 bids, row 1 asks) with linear probing and
backward-shift deletion (no tombstones), `sizes[row]` the sizes in the same slots; the table size is a
power of two and at most half full. The best price of each side is kept lazily in `state`, as the
dict-based book did: raised in O(1) when a better level appears and, when the best level is removed,
found on the next query by stepping tick by tick from the old best (prices are integers; the next level is
usually close), else by a full pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flashmm_engine.marketdata.jit import jit

OK, NEGATIVE_SIZE, NON_POSITIVE_PRICE, NEED_ROOM = 0, 1, 2, 3
EMPTY = NONE = 0
"""A free hash slot, and an unknown best or bound: no price is 0 (the book refuses non-positive prices)."""
COUNT, BEST, BOUND = 0, 2, 4
"""State fields, each for bids then asks: levels held; the best price if known; if it is not, a price no
level is better than, if known."""
STATE_FIELDS = 6
SCAN_TICKS = 64
"""After the best level goes, look this many ticks past it before falling back to a full pass."""
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@jit
def _home(price: Any, mask: Any) -> Any:
    return np.int64((np.uint64(price) * _GOLDEN) >> np.uint64(32)) & mask


@jit
def _find(keys: Any, row: Any, price: Any) -> Any:
    """The slot holding `price`, else -(the free slot where it would go) - 1."""
    mask = keys.shape[1] - 1
    slot = _home(price, mask)
    while True:
        key = keys[row, slot]
        if key == price:
            return slot
        if key == EMPTY:
            return -slot - 1
        slot = (slot + 1) & mask


@jit
def _remove(keys: Any, sizes: Any, row: Any, slot: Any) -> None:
    """Free `slot`, moving later entries of its probe run back so that every entry stays reachable."""
    mask = keys.shape[1] - 1
    hole = slot
    probe = slot
    while True:
        probe = (probe + 1) & mask
        key = keys[row, probe]
        if key == EMPTY:
            break
        home = _home(key, mask)
        # the entry may fill the hole unless its home lies cyclically in (hole, probe]
        if (probe - home) & mask >= (probe - hole) & mask:
            keys[row, hole], sizes[row, hole] = key, sizes[row, probe]
            hole = probe
    keys[row, hole] = EMPTY


@jit
def _apply_levels(
    keys: Any, sizes: Any, state: Any, prices: Any, new: Any, start: Any, bids: Any, asks: Any
) -> tuple[int, int]:
    """Validate every level first (sizes, then prices; bids, then asks), then set each level in order (the
    last write of a price wins). (NEED_ROOM, levels) when a side might pass the table's load limit."""
    for low, high in ((start, start + bids), (start + bids, start + bids + asks)):
        if high > low:
            smallest = new[low:high].min()
            if smallest < 0:
                return NEGATIVE_SIZE, smallest
            lowest = prices[low:high].min()
            if lowest <= 0:
                return NON_POSITIVE_PRICE, lowest
    limit = keys.shape[1] // 2
    if state[COUNT] + bids > limit or state[COUNT + 1] + asks > limit:
        return NEED_ROOM, max(state[COUNT] + bids, state[COUNT + 1] + asks)
    for i in range(start, start + bids + asks):
        row = 0 if i < start + bids else 1
        sign = 1 if row == 0 else -1
        price, size = prices[i], new[i]
        slot = _find(keys, row, price)
        best = state[BEST + row]
        if size == 0:
            if slot >= 0:
                _remove(keys, sizes, row, slot)
                state[COUNT + row] -= 1
                if price == best:  # the old best bounds every remaining level
                    state[BEST + row], state[BOUND + row] = NONE, price
            continue
        if slot >= 0:
            sizes[row, slot] = size
        else:
            keys[row, -slot - 1], sizes[row, -slot - 1] = price, size
            state[COUNT + row] += 1
        if best != NONE:
            if (price - best) * sign > 0:
                state[BEST + row] = price
        elif state[BOUND + row] != NONE and (price - state[BOUND + row]) * sign >= 0:
            state[BEST + row] = price  # no level is better than the bound, so none is better than this
    return OK, 0


@jit
def _best(keys: Any, sizes: Any, state: Any, row: Any) -> tuple[int, int]:
    """(price, size) of one side's best level, (NONE, 0) for an empty side."""
    if state[COUNT + row] == 0:
        return NONE, 0
    best = state[BEST + row]
    if best == NONE:
        sign = 1 if row == 0 else -1
        bound = state[BOUND + row]
        if bound != NONE:
            for step in range(SCAN_TICKS):
                price = bound - step * sign
                if price > 0 and _find(keys, row, price) >= 0:
                    best = price
                    break
        if best == NONE:
            for slot in range(keys.shape[1]):
                key = keys[row, slot]
                if key != EMPTY and (best == NONE or (key - best) * sign > 0):
                    best = key
        state[BEST + row] = best
    return best, sizes[row, _find(keys, row, best)]


@jit
def _crossed(keys: Any, sizes: Any, state: Any) -> bool:
    bid, _ = _best(keys, sizes, state, 0)
    ask, _ = _best(keys, sizes, state, 1)
    return bid != NONE and ask != NONE and bid >= ask


@jit
def _rehash(keys: Any, sizes: Any, new_keys: Any, new_sizes: Any) -> None:
    for row in range(2):
        for slot in range(keys.shape[1]):
            key = keys[row, slot]
            if key != EMPTY:
                free = -_find(new_keys, row, key) - 1
                new_keys[row, free], new_sizes[row, free] = key, sizes[row, slot]
