"""Where the feature state lives: fixed slots of the kernel's int64 and float64 state arrays.

The state machine (features/kernel.py) keeps every scalar in one int64 array and one float64 array, so one
compiled function serves the live engine (one event per call) and batch backfills (a whole capture per
call). Scalars sit at the fixed slots below; per-window lists (the spec's windows and their running sums)
follow the header at offsets stored in the header itself, laid out from the FeatureSpec by `new_state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.types import NS_PER_MS

NONE = -(2**63)
"""An int slot that holds no value (a Python None)."""

# --- int slots: market state ---
FIRST_TS = 0
BOOK_SYNCED = 1
TOB_BID, TOB_BID_SIZE, TOB_ASK, TOB_ASK_SIZE = 2, 3, 4, 5  # TOB_BID is NONE until a top of book is seen
REF_MID_X2 = 6
LAST_TRADE_TS, LAST_TRADE_PRICE, LAST_TRADE_SIDE = 7, 8, 9
LAST_BOOK_TS = 10
NONFINITE = 11
LAST_SAMPLE_TS = 12
# depth book: dense per-tick sizes from BOOK_BASE; best index per side (-1: empty); touched index range
BOOK_BASE, BEST_BID, BEST_ASK = 13, 14, 15
TOUCHED_LO, TOUCHED_HI = 16, 17
# mid histories (own market, reference market): live entries are [start, n)
MIDS_START, MIDS_N, REFS_START, REFS_N = 18, 19, 20, 21
# event rings (trades, order-flow imbalance): rows [lo, hi) are in use
TRADES_HI, OFI_HI = 22, 23
# decayed means: typical top size and typical spread (ts of the last observation, NONE before)
SIZE_TS, SPREAD_TS = 24, 25
# what the last call needs from its caller
NEED_LO, NEED_HI = 26, 27
ERROR_CODE, ERROR_VALUE = 28, 29
# --- int slots: parameters ---
WARMUP_NS, SLOPE_DEPTH, MIDS_KEEP_NS, REFS_KEEP_NS, SCALE_HALF_LIFE_NS, HAS_REFERENCE = 30, 31, 32, 33, 34, 35
# --- int slots: (offset, length) of each list ---
DEPTHS, RETURN_W, EWM_HL, REALIZED_W, FLOW_W, ACTIVITY_W, REF_W = 36, 38, 40, 42, 44, 46, 48
EWM_TS, TRADE_STARTS, TRADE_SUMS, OFI_STARTS, OFI_SUMS = 50, 52, 54, 56, 58
N_FEATURES = 60
HEADER = 61

# --- float slots ---
SIZE_SUM, SIZE_WEIGHT, SPREAD_SUM, SPREAD_WEIGHT = 0, 1, 2, 3
EWM_VALUES = 4  # one per half-life

TRADE_FIELDS = 4  # count, buy volume, sell volume, price x size
MIN_BOOK_SPAN = 4096
MAX_BOOK_SPAN = 1 << 21
"""Ticks one side's dense book may span: levels further from the rest are refused as bad input."""
MIN_HISTORY = 1024
MAX_HISTORY = 1 << 24
"""Rows a mid history or event ring may hold (far more than any window needs at real event rates)."""


@dataclass
class KernelState:
    """The arrays of one FeatureState, in the order every kernel function takes them."""

    ints: NDArray[np.int64]
    floats: NDArray[np.float64]
    book: NDArray[np.int64]  # (2, span): bid sizes, ask sizes per tick from BOOK_BASE
    mids: NDArray[np.int64]  # (cap, 2): ts, mid_x2
    mids_r2: NDArray[np.float64]  # (cap,): prefix sum of squared log returns
    refs: NDArray[np.int64]
    refs_r2: NDArray[np.float64]
    trades: NDArray[np.int64]  # (cap, 1 + TRADE_FIELDS): ts, fields
    ofi: NDArray[np.int64]  # (cap, 2): ts, ofi

    def arrays(self) -> tuple[Any, Any, Any, Any, Any, Any, Any, Any, Any]:
        return (
            self.ints,
            self.floats,
            self.book,
            self.mids,
            self.mids_r2,
            self.refs,
            self.refs_r2,
            self.trades,
            self.ofi,
        )


def new_state(spec: FeatureSpec) -> KernelState:
    lists: list[tuple[int, list[int]]] = [
        (DEPTHS, list(spec.depths)),
        (RETURN_W, [w * NS_PER_MS for w in spec.return_windows_ms]),
        (EWM_HL, [h * NS_PER_MS for h in spec.ewm_half_lives_ms]),
        (REALIZED_W, [w * NS_PER_MS for w in spec.realized_windows_ms]),
        (FLOW_W, [w * NS_PER_MS for w in spec.flow_windows_ms]),
        (ACTIVITY_W, [w * NS_PER_MS for w in spec.activity_windows_ms]),
        (REF_W, [w * NS_PER_MS for w in spec.reference_return_windows_ms]),
        (EWM_TS, [NONE] * len(spec.ewm_half_lives_ms)),
        (TRADE_STARTS, [0] * len(spec.flow_windows_ms)),
        (TRADE_SUMS, [0] * (TRADE_FIELDS * len(spec.flow_windows_ms))),
        (OFI_STARTS, [0] * len(spec.flow_windows_ms)),
        (OFI_SUMS, [0] * len(spec.flow_windows_ms)),
    ]
    size = HEADER + sum(len(values) for _, values in lists)
    ints = np.zeros(size, dtype=np.int64)
    offset = HEADER
    for slot, values in lists:
        ints[slot], ints[slot + 1] = offset, len(values)
        ints[offset : offset + len(values)] = values
        offset += len(values)
    for slot in (FIRST_TS, TOB_BID, REF_MID_X2, LAST_TRADE_TS, LAST_BOOK_TS, SIZE_TS, SPREAD_TS):
        ints[slot] = NONE
    ints[LAST_SAMPLE_TS] = -1
    ints[BEST_BID] = ints[BEST_ASK] = -1
    ints[TOUCHED_LO], ints[TOUCHED_HI] = 0, -1
    ints[WARMUP_NS] = spec.warmup_ns
    ints[SLOPE_DEPTH] = spec.slope_depth
    ints[MIDS_KEEP_NS] = spec.warmup_ns + spec.tick_ns
    ints[REFS_KEEP_NS] = max(spec.reference_return_windows_ms) * NS_PER_MS + spec.tick_ns
    ints[SCALE_HALF_LIFE_NS] = spec.scale_half_life_ms * NS_PER_MS
    ints[HAS_REFERENCE] = int(spec.reference_market is not None)
    ints[N_FEATURES] = len(spec.names())
    floats = np.zeros(EWM_VALUES + len(spec.ewm_half_lives_ms), dtype=np.float64)
    return KernelState(
        ints=ints,
        floats=floats,
        book=np.zeros((2, 0), dtype=np.int64),
        mids=np.zeros((MIN_HISTORY, 2), dtype=np.int64),
        mids_r2=np.zeros(MIN_HISTORY, dtype=np.float64),
        refs=np.zeros((MIN_HISTORY, 2), dtype=np.int64),
        refs_r2=np.zeros(MIN_HISTORY, dtype=np.float64),
        trades=np.zeros((MIN_HISTORY, 1 + TRADE_FIELDS), dtype=np.int64),
        ofi=np.zeros((MIN_HISTORY, 2), dtype=np.int64),
    )
