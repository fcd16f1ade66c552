"""Room for the kernel: grows the array a status asks for, within its cap, and describes refused updates."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from flashmm_engine.features.kernel_parts import (
    NEED_BOOK,
    NEED_MIDS,
    NEED_OFI,
    NEED_REFS,
    NEED_TRADES,
    NEGATIVE_SIZE,
    ring_drop,
)
from flashmm_engine.features.layout import (
    BEST_ASK,
    BEST_BID,
    BOOK_BASE,
    ERROR_CODE,
    ERROR_VALUE,
    FIRST_TS,
    MAX_BOOK_SPAN,
    MAX_HISTORY,
    MIDS_START,
    MIN_BOOK_SPAN,
    NEED_HI,
    NEED_LO,
    NONE,
    OFI_HI,
    OFI_STARTS,
    OFI_SUMS,
    REFS_START,
    TOUCHED_HI,
    TOUCHED_LO,
    TRADE_STARTS,
    TRADE_SUMS,
    TRADES_HI,
    KernelState,
)

BOOK_UPDATE = "feature_book_update"
HISTORY_CAP = "feature_history_cap"


def book_error_detail(state: KernelState) -> str:
    code, value = int(state.ints[ERROR_CODE]), int(state.ints[ERROR_VALUE])
    return f"negative size {value}" if code == NEGATIVE_SIZE else f"non-positive price {value}"


def make_room(state: KernelState, status: int, ts: int, record: Callable[[str, str], None]) -> bool:
    """Grow what `status` asks for; True: call again. False: the event cannot be applied (a price too far
    from the rest of the book); it is then done, as a refused book update is. Both refusals and a history
    at its cap (which forgets its oldest half) are recorded as bad input."""
    if status == NEED_BOOK:
        lo, hi = int(state.ints[NEED_LO]), int(state.ints[NEED_HI])
        if _grow_book(state, lo, hi):
            return True
        if state.ints[FIRST_TS] == NONE:
            state.ints[FIRST_TS] = ts
        record(BOOK_UPDATE, f"levels {lo}..{hi} ticks would spread the book over more than {MAX_BOOK_SPAN}")
        return False
    if status in (NEED_MIDS, NEED_REFS):
        capped = _grow_history(state, status == NEED_MIDS)
    elif status in (NEED_TRADES, NEED_OFI):
        capped = _grow_ring(state, status == NEED_TRADES)
    else:
        raise ValueError(f"unknown kernel status {status}")
    if capped:
        record(HISTORY_CAP, f"a feature history reached {MAX_HISTORY} rows; its oldest half was dropped")
    return True


def _grow_book(state: KernelState, lo: int, hi: int) -> bool:
    ints, old = state.ints, state.book
    base = int(ints[BOOK_BASE])
    occupied = int(ints[TOUCHED_HI]) >= int(ints[TOUCHED_LO])
    if occupied:
        lo, hi = min(lo, base + int(ints[TOUCHED_LO])), max(hi, base + int(ints[TOUCHED_HI]))
    width = hi - lo + 1
    if width > MAX_BOOK_SPAN:
        return False
    span = min(max(2 * width, MIN_BOOK_SPAN), MAX_BOOK_SPAN)
    new_base = max(1, lo - (span - width) // 2)
    book = np.zeros((2, span), dtype=np.int64)
    shift = base - new_base
    if occupied:
        first, last = int(ints[TOUCHED_LO]), int(ints[TOUCHED_HI])
        book[:, first + shift : last + shift + 1] = old[:, first : last + 1]
        ints[TOUCHED_LO] += shift
        ints[TOUCHED_HI] += shift
    for slot in (BEST_BID, BEST_ASK):
        if ints[slot] >= 0:
            ints[slot] += shift
    ints[BOOK_BASE] = new_base
    state.book = book
    return True


def _grow_history(state: KernelState, own: bool) -> bool:
    hist, r2 = (state.mids, state.mids_r2) if own else (state.refs, state.refs_r2)
    slot = MIDS_START if own else REFS_START
    ints = state.ints
    if len(hist) >= MAX_HISTORY:  # at the cap: the oldest half goes
        ints[slot] = max(int(ints[slot]), int(ints[slot + 1]) // 2)
        return True
    bigger, bigger_r2 = np.zeros((2 * len(hist), 2), dtype=np.int64), np.zeros(2 * len(hist))
    bigger[: len(hist)], bigger_r2[: len(hist)] = hist, r2
    if own:
        state.mids, state.mids_r2 = bigger, bigger_r2
    else:
        state.refs, state.refs_r2 = bigger, bigger_r2
    return False


def _grow_ring(state: KernelState, is_trades: bool) -> bool:
    ring = state.trades if is_trades else state.ofi
    slots = (TRADES_HI, TRADE_STARTS, TRADE_SUMS) if is_trades else (OFI_HI, OFI_STARTS, OFI_SUMS)
    hi_slot, starts, sums = slots
    if len(ring) >= MAX_HISTORY:  # at the cap: every window forgets the oldest half
        ring_drop(ring, state.ints, starts, sums, int(state.ints[hi_slot]) // 2)
        return True
    bigger = np.zeros((2 * len(ring), ring.shape[1]), dtype=np.int64)
    bigger[: len(ring)] = ring
    if is_trades:
        state.trades = bigger
    else:
        state.ofi = bigger
    return False
