"""Compiled building blocks of the feature state machine: the depth book, mid histories, event rings and
decayed accumulators, all on the arrays laid out by features/layout.py. Every function that can run out
of room checks before it changes anything, so its caller may grow the arrays and call it again."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

from numba import njit

from flashmm_engine.features.layout import (
    BEST_ASK,
    BEST_BID,
    BOOK_BASE,
    ERROR_CODE,
    ERROR_VALUE,
    EWM_HL,
    EWM_TS,
    EWM_VALUES,
    NEED_HI,
    NEED_LO,
    NONE,
    TOB_ASK,
    TOB_ASK_SIZE,
    TOB_BID,
    TOB_BID_SIZE,
    TOUCHED_HI,
    TOUCHED_LO,
)

OK, BOOK_ERROR, NEED_BOOK, NEED_MIDS, NEED_REFS, NEED_TRADES, NEED_OFI = 0, 1, 2, 3, 4, 5, 6
NEGATIVE_SIZE, NON_POSITIVE_PRICE = 1, 2

F = TypeVar("F", bound=Callable[..., Any])


def jit(function: F) -> F:
    """Compiled to machine code, cached beside the source; float errors give inf/nan (then zeroed)."""
    return cast(F, njit(cache=True, error_model="numpy", nogil=True)(function))


# --- depth book: dense sizes per tick, best index per side ---


@jit
def book_best(ints: Any, book: Any, side: int) -> tuple[int, int]:
    """(price, size) of one side's best level; price NONE for an empty side."""
    best = ints[BEST_BID] if side == 1 else ints[BEST_ASK]
    if best < 0:
        return NONE, 0
    return ints[BOOK_BASE] + best, book[0 if side == 1 else 1, best]


@jit
def book_depth(ints: Any, book: Any, side: int, out: Any) -> int:
    """The best len(out) levels of one side into out (price, size), best first; returns how many."""
    best = ints[BEST_BID] if side == 1 else ints[BEST_ASK]
    count = 0
    if best < 0:
        return 0
    base, k = ints[BOOK_BASE], out.shape[0]
    if side == 1:
        j, stop = best, ints[TOUCHED_LO]
        while j >= stop and count < k:
            if book[0, j] > 0:
                out[count, 0], out[count, 1] = base + j, book[0, j]
                count += 1
            j -= 1
    else:
        j, stop = best, ints[TOUCHED_HI]
        while j <= stop and count < k:
            if book[1, j] > 0:
                out[count, 0], out[count, 1] = base + j, book[1, j]
                count += 1
            j += 1
    return count


@jit
def _bad_level(ints: Any, price: int, size: int) -> bool:
    if size < 0:
        ints[ERROR_CODE], ints[ERROR_VALUE] = NEGATIVE_SIZE, size
        return True
    if price <= 0:
        ints[ERROR_CODE], ints[ERROR_VALUE] = NON_POSITIVE_PRICE, price
        return True
    return False


@jit
def _touch(ints: Any, index: int) -> None:
    if ints[TOUCHED_HI] < ints[TOUCHED_LO]:
        ints[TOUCHED_LO] = ints[TOUCHED_HI] = index
    elif index < ints[TOUCHED_LO]:
        ints[TOUCHED_LO] = index
    elif index > ints[TOUCHED_HI]:
        ints[TOUCHED_HI] = index


@jit
def set_level(ints: Any, book: Any, side: int, price: int, size: int) -> int:
    """Set one level to an absolute size (0 removes it)."""
    if _bad_level(ints, price, size):
        return BOOK_ERROR
    index = price - ints[BOOK_BASE]
    if index < 0 or index >= book.shape[1]:
        if size == 0:
            return OK  # no level can be there
        ints[NEED_LO] = ints[NEED_HI] = price
        return NEED_BOOK
    if side == 1:
        book[0, index] = size
        best = ints[BEST_BID]
        if size > 0:
            _touch(ints, index)
            if best < 0 or index > best:
                ints[BEST_BID] = index
        elif index == best:
            j, stop = index - 1, ints[TOUCHED_LO]
            while j >= stop and book[0, j] == 0:
                j -= 1
            ints[BEST_BID] = j if j >= stop else -1
    else:
        book[1, index] = size
        best = ints[BEST_ASK]
        if size > 0:
            _touch(ints, index)
            if best < 0 or index < best:
                ints[BEST_ASK] = index
        elif index == best:
            j, stop = index + 1, ints[TOUCHED_HI]
            while j <= stop and book[1, j] == 0:
                j += 1
            ints[BEST_ASK] = j if j <= stop else -1
    return OK


@jit
def load_book(ints: Any, book: Any, prices: Any, sizes: Any, start: int, n_bids: int, n_asks: int) -> int:
    """Replace the book with a snapshot image (levels[start:start + n_bids] bids, then asks); zero sizes
    are ignored. Checks every level before changing anything."""
    lo, hi = NONE, NONE
    for i in range(start, start + n_bids + n_asks):
        if sizes[i] == 0:
            continue
        if _bad_level(ints, prices[i], sizes[i]):
            return BOOK_ERROR
        if lo == NONE or prices[i] < lo:
            lo = prices[i]
        if hi == NONE or prices[i] > hi:
            hi = prices[i]
    base = ints[BOOK_BASE]
    if lo != NONE and (lo < base or hi >= base + book.shape[1]):
        ints[NEED_LO], ints[NEED_HI] = lo, hi
        return NEED_BOOK
    if ints[TOUCHED_HI] >= ints[TOUCHED_LO]:
        book[:, ints[TOUCHED_LO] : ints[TOUCHED_HI] + 1] = 0
    ints[TOUCHED_LO], ints[TOUCHED_HI] = 0, -1
    ints[BEST_BID] = ints[BEST_ASK] = -1
    for i in range(start, start + n_bids + n_asks):
        if sizes[i] == 0:
            continue
        index = prices[i] - base
        _touch(ints, index)
        if i < start + n_bids:
            book[0, index] = sizes[i]
            if index > ints[BEST_BID]:
                ints[BEST_BID] = index
        else:
            book[1, index] = sizes[i]
            if ints[BEST_ASK] < 0 or index < ints[BEST_ASK]:
                ints[BEST_ASK] = index
    return OK


@jit
def top(ints: Any, book: Any) -> tuple[int, int, int, int]:
    """bid, bid size, ask, ask size: the venue's top of book when seen, else the depth book's (0 if empty)."""
    if ints[TOB_BID] != NONE:
        return ints[TOB_BID], ints[TOB_BID_SIZE], ints[TOB_ASK], ints[TOB_ASK_SIZE]
    bid, bid_size = book_best(ints, book, 1)
    ask, ask_size = book_best(ints, book, -1)
    if bid == NONE:
        bid, bid_size = 0, 0
    if ask == NONE:
        ask, ask_size = 0, 0
    return bid, bid_size, ask, ask_size


@jit
def mid_x2(ints: Any, book: Any) -> int:
    """Mid as bid + ask in ticks (exact), NONE when a side is unknown."""
    if ints[TOB_BID] != NONE:
        return int(ints[TOB_BID] + ints[TOB_ASK])
    bid, _ = book_best(ints, book, 1)
    ask, _ = book_best(ints, book, -1)
    if bid == NONE or ask == NONE:
        return NONE
    return bid + ask


# --- mid histories: rows (ts, mid_x2) in [start, n) plus a prefix sum of squared log returns ---


@jit
def log_return_bps(new: int, old: int) -> float:
    if new <= 0 or old <= 0:
        return 0.0
    return math.log(new / old) * 1e4


@jit
def signed_log1p(value: float) -> float:
    return math.copysign(math.log1p(abs(value)), value)


@jit
def history_index_at(hist: Any, ints: Any, slot: int, ts: int) -> int:
    """Index of the last row at or before ts, or start - 1 when there is none (slot: START, slot+1: N)."""
    lo, hi = ints[slot], ints[slot + 1]
    while lo < hi:
        middle = (lo + hi) // 2
        if hist[middle, 0] <= ts:
            lo = middle + 1
        else:
            hi = middle
    return int(lo - 1)


@jit
def history_last(hist: Any, ints: Any, slot: int) -> int:
    n = ints[slot + 1]
    return hist[n - 1, 1] if n > 0 else NONE


@jit
def history_mid_at(hist: Any, ints: Any, slot: int, ts: int) -> int:
    start, n = ints[slot], ints[slot + 1]
    index = history_index_at(hist, ints, slot, ts)
    if index < start:
        return hist[start, 1] if n > start else NONE
    return int(hist[index, 1])


@jit
def history_changes_since(hist: Any, ints: Any, slot: int, ts: int) -> int:
    """Number of mid changes strictly after ts."""
    return int(ints[slot + 1] - 1 - max(history_index_at(hist, ints, slot, ts), ints[slot] - 1))


@jit
def history_r2_since(hist: Any, r2: Any, ints: Any, slot: int, ts: int) -> float:
    start, n = ints[slot], ints[slot + 1]
    if n == 0:
        return 0.0
    index = history_index_at(hist, ints, slot, ts)
    base = r2[index] if index >= start else r2[start]
    return float(max(r2[n - 1] - base, 0.0))


@jit
def history_trim(hist: Any, ints: Any, slot: int, now: int, keep_ns: int) -> None:
    """Forget what no window can reach, keeping one row at or before the oldest cut-off."""
    keep_from = history_index_at(hist, ints, slot, now - keep_ns)
    if keep_from > ints[slot]:
        ints[slot] = keep_from


@jit
def history_reserve(hist: Any, r2: Any, ints: Any, slot: int) -> bool:
    """Room for one more row: compacts when a quarter or more is dropped prefix; False if it must grow."""
    start, n = ints[slot], ints[slot + 1]
    if n < hist.shape[0]:
        return True
    if start < hist.shape[0] // 4:
        return False
    hist[: n - start] = hist[start:n]
    r2[: n - start] = r2[start:n]
    ints[slot], ints[slot + 1] = 0, n - start
    return True


@jit
def history_append(hist: Any, r2: Any, ints: Any, slot: int, ts: int, mid: int) -> float:
    """Record a new mid (room reserved); returns its log return from the previous one in bps."""
    n = ints[slot + 1]
    ret, previous = 0.0, 0.0
    if n > 0:
        ret = log_return_bps(mid, hist[n - 1, 1])
        previous = r2[n - 1]
    hist[n, 0], hist[n, 1] = ts, mid
    r2[n] = previous + ret * ret
    ints[slot + 1] = n + 1
    return ret


# --- event rings: rows (ts, fields...) shared by windows of several widths, each with its own start ---


@jit
def ring_reserve(ring: Any, ints: Any, hi_slot: int, starts_slot: int) -> bool:
    hi = ints[hi_slot]
    if hi < ring.shape[0]:
        return True
    offset, count = ints[starts_slot], ints[starts_slot + 1]
    lo = hi
    for w in range(count):
        lo = min(lo, ints[offset + w])
    if lo < ring.shape[0] // 4:
        return False
    ring[: hi - lo] = ring[lo:hi]
    for w in range(count):
        ints[offset + w] -= lo
    ints[hi_slot] = hi - lo
    return True


@jit
def ring_add(
    ring: Any, ints: Any, hi_slot: int, starts_slot: int, sums_slot: int, ts: int, values: Any
) -> None:
    hi, fields = ints[hi_slot], len(values)
    ring[hi, 0] = ts
    for f in range(fields):
        ring[hi, 1 + f] = values[f]
    ints[hi_slot] = hi + 1
    sums = ints[sums_slot]
    for w in range(ints[starts_slot + 1]):
        for f in range(fields):
            ints[sums + w * fields + f] += values[f]


@jit
def ring_advance(
    ring: Any, ints: Any, hi_slot: int, starts_slot: int, sums_slot: int, widths_slot: int, now: int
) -> None:
    """Drop from each window the rows at or before now - its width: windows cover (now - width, now]."""
    hi, fields = ints[hi_slot], ring.shape[1] - 1
    starts, sums, widths = ints[starts_slot], ints[sums_slot], ints[widths_slot]
    for w in range(ints[starts_slot + 1]):
        cutoff = now - ints[widths + w]
        s = ints[starts + w]
        while s < hi and ring[s, 0] <= cutoff:
            for f in range(fields):
                ints[sums + w * fields + f] -= ring[s, 1 + f]
            s += 1
        ints[starts + w] = s


@jit
def ring_drop(ring: Any, ints: Any, starts_slot: int, sums_slot: int, upto: int) -> None:
    """Drop rows before `upto` from every window (only when a ring reaches its cap)."""
    fields = ring.shape[1] - 1
    starts, sums = ints[starts_slot], ints[sums_slot]
    for w in range(ints[starts_slot + 1]):
        s = ints[starts + w]
        while s < upto:
            for f in range(fields):
                ints[sums + w * fields + f] -= ring[s, 1 + f]
            s += 1
        ints[starts + w] = s


# --- decayed accumulators ---


@jit
def ewm_decayed(ints: Any, floats: Any, j: int, ts: int) -> float:
    last = ints[ints[EWM_TS] + j]
    if last == NONE:
        return 0.0
    return float(floats[EWM_VALUES + j] * math.exp2(-(ts - last) / ints[ints[EWM_HL] + j]))


@jit
def ewm_add(ints: Any, floats: Any, j: int, ts: int, squared: float) -> None:
    floats[EWM_VALUES + j] = ewm_decayed(ints, floats, j, ts) + squared
    ints[ints[EWM_TS] + j] = ts


@jit
def ewm_vol(ints: Any, floats: Any, j: int, ts: int) -> float:
    """Volatility in bps per sqrt second: a decayed sum with half-life h weighs about h/ln2 of history."""
    return math.sqrt(ewm_decayed(ints, floats, j, ts) * math.log(2) / (ints[ints[EWM_HL] + j] / 1e9))


@jit
def mean_add(
    ints: Any, floats: Any, ts_slot: int, sum_slot: int, half_life_ns: int, ts: int, value: float
) -> None:
    """Time-decayed mean: each observation weighs 2^(-age / half-life)."""
    last = ints[ts_slot]
    decay = math.exp2(-(ts - last) / half_life_ns) if last != NONE else 0.0
    floats[sum_slot] = floats[sum_slot] * decay + value
    floats[sum_slot + 1] = floats[sum_slot + 1] * decay + 1.0
    ints[ts_slot] = ts


@jit
def mean_value(floats: Any, sum_slot: int) -> float:
    weight = floats[sum_slot + 1]
    return floats[sum_slot] / weight if weight > 0 else 0.0
