"""The one definition of every feature: a compiled state machine over the arrays of features/layout.py.

`on_event` applies one market event and `sample_into` writes the feature vector as of a time; the live
FeatureState calls them once per event and tick, and `run_batch` calls the very same functions over a whole
recorded event stream, so live and batch features agree by construction. `sample_into(t)` only reads state
built from events with ts_local <= t: there is no lookahead.

Events are plain integers: `kind` and up to four fields (see the kinds below). Statuses other than OK ask
the caller for something (room in an array, or to count a bad update) and say nothing was changed, except
BOOK_ERROR, after which the event is done (it was refused, as the book refuses it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flashmm_engine.features.kernel_parts import (
    BOOK_ERROR,
    NEED_MIDS,
    NEED_OFI,
    NEED_REFS,
    NEED_TRADES,
    OK,
    book_depth,
    ewm_add,
    ewm_vol,
    history_append,
    history_changes_since,
    history_last,
    history_mid_at,
    history_r2_since,
    history_reserve,
    history_trim,
    jit,
    load_book,
    log_return_bps,
    mean_add,
    mean_value,
    mid_x2,
    ring_add,
    ring_advance,
    ring_reserve,
    set_level,
    signed_log1p,
    top,
)
from flashmm_engine.features.layout import (
    ACTIVITY_W,
    BOOK_SYNCED,
    DEPTHS,
    EWM_HL,
    FIRST_TS,
    FLOW_W,
    HAS_REFERENCE,
    LAST_BOOK_TS,
    LAST_SAMPLE_TS,
    LAST_TRADE_PRICE,
    LAST_TRADE_SIDE,
    LAST_TRADE_TS,
    MIDS_KEEP_NS,
    MIDS_START,
    NONE,
    NONFINITE,
    OFI_HI,
    OFI_STARTS,
    OFI_SUMS,
    REALIZED_W,
    REF_MID_X2,
    REF_W,
    REFS_KEEP_NS,
    REFS_START,
    RETURN_W,
    SCALE_HALF_LIFE_NS,
    SIZE_SUM,
    SIZE_TS,
    SLOPE_DEPTH,
    SPREAD_SUM,
    SPREAD_TS,
    TOB_ASK,
    TOB_ASK_SIZE,
    TOB_BID,
    TOB_BID_SIZE,
    TRADE_FIELDS,
    TRADE_STARTS,
    TRADE_SUMS,
    TRADES_HI,
    WARMUP_NS,
)
from flashmm_engine.types import NS_PER_MS, NS_PER_S

DELTA, TOP, TRADE, SNAPSHOT, REF_TOP, OTHER = 0, 1, 2, 3, 4, 5
"""Event kinds and their fields: DELTA side, price, size; TOP bid, bid size, ask, ask size; TRADE price,
size, aggressor side; SNAPSHOT offset into the level arrays, bid count, ask count; REF_TOP (the reference
market's top of book) bid, -, ask; OTHER (another market: only its time counts)."""

# cursor slots of run_batch
AT, SAMPLES, MIDS_OUT, NEXT_TICK, SKIP, LAST_MID = 0, 1, 2, 3, 4, 5
TRADE_SEEN = 2  # cursor[SKIP] for apply_until: the trade at AT was shown to the caller; apply it
AT_TRADE = 7  # apply_until stopped before a trade


@jit
def on_event(
    ints: Any, floats: Any, book: Any, mids: Any, mids_r2: Any, refs: Any, refs_r2: Any, trades: Any,
    ofi: Any, kind: int, ts: int, a: int, b: int, c: int, d: int, level_prices: Any, level_sizes: Any,
) -> int:  # fmt: skip
    if kind == OTHER:
        return OK
    if kind == REF_TOP:
        if not history_reserve(refs, refs_r2, ints, REFS_START):
            return NEED_REFS
        ref = a + c
        ints[REF_MID_X2] = ref
        if history_last(refs, ints, REFS_START) != ref:
            history_append(refs, refs_r2, ints, REFS_START, ts, ref)
        return OK
    if not history_reserve(mids, mids_r2, ints, MIDS_START):
        return NEED_MIDS
    if kind == TOP and not ring_reserve(ofi, ints, OFI_HI, OFI_STARTS):
        return NEED_OFI
    if kind == TRADE and not ring_reserve(trades, ints, TRADES_HI, TRADE_STARTS):
        return NEED_TRADES
    status = OK
    if kind == DELTA:
        status = set_level(ints, book, a, b, c)
    elif kind == SNAPSHOT:
        status = load_book(ints, book, level_prices, level_sizes, a, b, c)
    if ints[FIRST_TS] == NONE and status <= BOOK_ERROR:
        ints[FIRST_TS] = ts
    if status != OK:
        return status
    if kind == DELTA:
        ints[LAST_BOOK_TS] = ts
    elif kind == SNAPSHOT:
        ints[BOOK_SYNCED] = 1
        ints[LAST_BOOK_TS] = ts
    elif kind == TOP:
        _on_top(ints, ofi, ts, a, b, c, d)
    else:
        buy = b if c > 0 else 0
        ring_add(trades, ints, TRADES_HI, TRADE_STARTS, TRADE_SUMS, ts, (1, buy, b - buy, a * b))
        ints[LAST_TRADE_TS], ints[LAST_TRADE_PRICE], ints[LAST_TRADE_SIDE] = ts, a, c
    _update_mid(ints, floats, book, mids, mids_r2, ts)
    _update_scales(ints, floats, book, ts)
    return OK


@jit
def _on_top(ints: Any, ofi: Any, ts: int, bid: int, bid_size: int, ask: int, ask_size: int) -> None:
    if ints[TOB_BID] != NONE:
        pb, pbs, pa, pas = ints[TOB_BID], ints[TOB_BID_SIZE], ints[TOB_ASK], ints[TOB_ASK_SIZE]
        # Cont, Kukanov and Stoikov (2014) order-flow imbalance of one top-of-book update, in lots
        bid_flow = (bid_size if bid >= pb else 0) - (pbs if bid <= pb else 0)
        ask_flow = (ask_size if ask <= pa else 0) - (pas if ask >= pa else 0)
        flow = bid_flow - ask_flow
        if flow != 0:
            ring_add(ofi, ints, OFI_HI, OFI_STARTS, OFI_SUMS, ts, (flow,))
    ints[TOB_BID], ints[TOB_BID_SIZE], ints[TOB_ASK], ints[TOB_ASK_SIZE] = bid, bid_size, ask, ask_size


@jit
def _update_mid(ints: Any, floats: Any, book: Any, mids: Any, mids_r2: Any, ts: int) -> None:
    mid = mid_x2(ints, book)
    if mid == NONE or mid == history_last(mids, ints, MIDS_START):
        return
    ret = history_append(mids, mids_r2, ints, MIDS_START, ts, mid)
    for j in range(ints[EWM_HL + 1]):
        ewm_add(ints, floats, j, ts, ret * ret)


@jit
def _update_scales(ints: Any, floats: Any, book: Any, ts: int) -> None:
    bid, bid_size, ask, ask_size = top(ints, book)
    if bid_size + ask_size > 0 and ask > bid:
        half_life = ints[SCALE_HALF_LIFE_NS]
        mean_add(ints, floats, SIZE_TS, SIZE_SUM, half_life, ts, (bid_size + ask_size) / 2)
        mean_add(ints, floats, SPREAD_TS, SPREAD_SUM, half_life, ts, float(ask - bid))


@jit
def is_warm(ints: Any, book: Any, ts: int) -> bool:
    first = ints[FIRST_TS]
    ready = mid_x2(ints, book) != NONE and ints[BOOK_SYNCED] == 1 and first != NONE
    if ints[HAS_REFERENCE] == 1:
        ready = ready and ints[REF_MID_X2] != NONE
    return ready and ts - first >= ints[WARMUP_NS]


@jit
def _imbalance(bid_size: float, ask_size: float) -> float:
    total = bid_size + ask_size
    return (bid_size - ask_size) / total if total > 0 else 0.0


@jit
def _cum(levels: Any, count: int, depth: int) -> int:
    total = 0
    for i in range(min(count, depth)):
        total += levels[i, 1]
    return total


@jit
def _slope(levels: Any, count: int, typical_size: float) -> float:
    """Log cumulative size (in typical top sizes) per tick of distance from the best level."""
    if count == 0:
        return 0.0
    distance = float(max(abs(levels[count - 1, 0] - levels[0, 0]), 1))
    return math.log1p(_cum(levels, count, count) / typical_size) / distance


@jit
def _z(ret_bps: float, window_ms: int, vol_bps: float, tick_bps: float) -> float:
    """A return in units of the move expected over its window (plus one tick, so a quiet book with no
    volatility yet gives finite values)."""
    return ret_bps / (vol_bps * math.sqrt(window_ms / 1000) + tick_bps)


@jit
def _in_spreads(vol_bps: float, tick_bps: float, spread: float) -> float:
    return vol_bps / tick_bps / spread if tick_bps > 0 else 0.0


@jit
def sample_into(
    ints: Any, floats: Any, book: Any, mids: Any, mids_r2: Any, refs: Any, refs_r2: Any, trades: Any,
    ofi: Any, ts: int, out: Any,
) -> None:  # fmt: skip
    """Features as of time ts into out. Always finite; zeros before any data."""
    ints[LAST_SAMPLE_TS] = ts
    ring_advance(trades, ints, TRADES_HI, TRADE_STARTS, TRADE_SUMS, FLOW_W, ts)
    ring_advance(ofi, ints, OFI_HI, OFI_STARTS, OFI_SUMS, FLOW_W, ts)
    history_trim(mids, ints, MIDS_START, ts, ints[MIDS_KEEP_NS])
    history_trim(refs, ints, REFS_START, ts, ints[REFS_KEEP_NS])
    mid = mid_x2(ints, book)
    if mid == NONE:
        out[:] = 0.0
        return
    bid, _, ask, _ = top(ints, book)
    spread = float(max(ask - bid, 1))
    size = max(mean_value(floats, SIZE_SUM), 1.0)
    tick_bps = 2e4 / mid if mid > 0 else 0.0
    n_ewm = ints[EWM_HL + 1]
    vol_bps = ewm_vol(ints, floats, n_ewm - 1, ts) if n_ewm > 0 else 0.0
    k = _book_features(ints, floats, book, out, 0, mid, spread, size)
    k = _price_features(ints, floats, mids, mids_r2, out, k, ts, mid, spread, tick_bps, vol_bps)
    k = _flow_features(ints, trades, out, k, mid, spread, size)
    k = _timing_features(ints, mids, out, k, ts, mid, spread)
    if ints[HAS_REFERENCE] == 1:
        _reference_features(ints, refs, out, k, ts, mid, tick_bps, vol_bps)
    for i in range(out.shape[0]):
        if not math.isfinite(out[i]):
            ints[NONFINITE] += 1
            out[i] = 0.0


@jit
def _book_features(
    ints: Any, floats: Any, book: Any, out: Any, k: int, mid2: int, spread: float, size: float
) -> int:
    bid, bid_size, ask, ask_size = top(ints, book)
    mid = mid2 / 2
    depths, n_depths, slope_depth = ints[DEPTHS], ints[DEPTHS + 1], ints[SLOPE_DEPTH]
    levels = slope_depth
    for i in range(n_depths):
        levels = max(levels, ints[depths + i])
    bids, asks = np.empty((levels, 2), np.int64), np.empty((levels, 2), np.int64)
    n_bids, n_asks = book_depth(ints, book, 1, bids), book_depth(ints, book, -1, asks)
    out[k] = _imbalance(bid_size, ask_size)
    k += 1
    for i in range(n_depths):
        depth = ints[depths + i]
        out[k] = _imbalance(_cum(bids, n_bids, depth), _cum(asks, n_asks, depth))
        k += 1
    total = bid_size + ask_size
    micro = (float(bid) * ask_size + float(ask) * bid_size) / total if total else mid
    typical_spread = mean_value(floats, SPREAD_SUM)
    out[k] = (micro - mid) / spread
    out[k + 1] = float(ask - bid)
    out[k + 2] = math.log(spread / typical_spread) if typical_spread > 0 else 0.0
    book_bid = bids[0, 0] if n_bids else bid
    book_ask = asks[0, 0] if n_asks else ask
    out[k + 3] = ((book_bid + book_ask) / 2 - mid) / spread
    slope_bids, slope_asks = min(n_bids, slope_depth), min(n_asks, slope_depth)
    out[k + 4] = _slope(bids, slope_bids, size)
    out[k + 5] = _slope(asks, slope_asks, size)
    out[k + 6] = math.log1p(_cum(bids, n_bids, slope_depth) / size)
    out[k + 7] = math.log1p(_cum(asks, n_asks, slope_depth) / size)
    return k + 8


@jit
def _price_features(
    ints: Any, floats: Any, mids: Any, mids_r2: Any, out: Any, k: int, ts: int, mid: int, spread: float,
    tick_bps: float, vol_bps: float,
) -> int:  # fmt: skip
    windows = ints[RETURN_W]
    for i in range(ints[RETURN_W + 1]):
        window = ints[windows + i]
        past = history_mid_at(mids, ints, MIDS_START, ts - window)
        ret = log_return_bps(mid, past) if past != NONE else 0.0
        out[k] = _z(ret, window // NS_PER_MS, vol_bps, tick_bps) if past != NONE else 0.0
        k += 1
    realized = ints[REALIZED_W]
    longest = 0
    for i in range(ints[REALIZED_W + 1]):
        longest = max(longest, ints[realized + i])
    long_rate = (history_changes_since(mids, ints, MIDS_START, ts - longest) + 1) / (longest // NS_PER_MS)
    activity = ints[ACTIVITY_W]
    for i in range(ints[ACTIVITY_W + 1]):
        window = ints[activity + i]
        changes = history_changes_since(mids, ints, MIDS_START, ts - window)
        out[k] = changes / (window // NS_PER_MS) / long_rate
        k += 1
    for j in range(ints[EWM_HL + 1]):
        out[k] = _in_spreads(ewm_vol(ints, floats, j, ts), tick_bps, spread)
        k += 1
    for i in range(ints[REALIZED_W + 1]):
        window = ints[realized + i]
        r2 = history_r2_since(mids, mids_r2, ints, MIDS_START, ts - window)
        out[k] = _in_spreads(math.sqrt(r2 / ((window // NS_PER_MS) / 1000)), tick_bps, spread)
        k += 1
    return k


@jit
def _flow_features(ints: Any, trades: Any, out: Any, k: int, mid: int, spread: float, size: float) -> int:
    widths, count_w = ints[FLOW_W], ints[FLOW_W + 1]
    sums, ofi_sums = ints[TRADE_SUMS], ints[OFI_SUMS]
    last = count_w - 1
    long_rate = (ints[sums + last * TRADE_FIELDS] + 1) / ints[widths + last]
    for w in range(count_w):
        at = sums + w * TRADE_FIELDS
        count, buy, sell, notional = ints[at], ints[at + 1], ints[at + 2], ints[at + 3]
        volume = buy + sell
        out[k] = _imbalance(buy, sell)
        out[k + 1] = signed_log1p((buy - sell) / size)
        out[k + 2] = math.log1p(volume / size)
        out[k + 3] = count / ints[widths + w] / long_rate
        out[k + 4] = (notional / volume - mid / 2) / spread if volume else 0.0
        out[k + 5] = signed_log1p(ints[ofi_sums + w] / size)
        k += 6
    return k


@jit
def _timing_features(ints: Any, mids: Any, out: Any, k: int, ts: int, mid: int, spread: float) -> int:
    start = ints[FIRST_TS] if ints[FIRST_TS] != NONE else ts
    trade_ts = ints[LAST_TRADE_TS] if ints[LAST_TRADE_TS] != NONE else start
    n_mids = ints[MIDS_START + 1]
    mid_ts = mids[n_mids - 1, 0] if n_mids > 0 else start
    book_ts = ints[LAST_BOOK_TS] if ints[LAST_BOOK_TS] != NONE else start
    cap = ints[WARMUP_NS]  # capped at the warm-up: how long the process has run must not leak in
    out[k] = math.log1p(min(max(ts - trade_ts, 0), cap) / NS_PER_S)
    out[k + 1] = math.log1p(min(max(ts - mid_ts, 0), cap) / NS_PER_S)
    out[k + 2] = math.log1p(min(max(ts - book_ts, 0), cap) / NS_PER_S)
    if ints[LAST_TRADE_TS] == NONE:
        out[k + 3] = out[k + 4] = 0.0
    else:
        out[k + 3] = float(ints[LAST_TRADE_SIDE])
        out[k + 4] = (ints[LAST_TRADE_PRICE] - mid / 2) / spread
    return k + 5


@jit
def _reference_features(
    ints: Any, refs: Any, out: Any, k: int, ts: int, mid: int, tick_bps: float, vol_bps: float
) -> None:
    ref = ints[REF_MID_X2]
    out[k] = log_return_bps(mid, ref) if ref != NONE else 0.0
    windows = ints[REF_W]
    for i in range(ints[REF_W + 1]):
        window = ints[windows + i]
        past = history_mid_at(refs, ints, REFS_START, ts - window)
        ret = log_return_bps(ref, past) if ref != NONE and past != NONE else 0.0
        out[k + 1 + i] = _z(ret, window // NS_PER_MS, vol_bps, tick_bps)


@jit
def run_batch(
    ints: Any, floats: Any, book: Any, mids: Any, mids_r2: Any, refs: Any, refs_r2: Any, trades: Any,
    ofi: Any, kinds: Any, stamps: Any, fields: Any, level_prices: Any, level_sizes: Any, step: int,
    cursor: Any, out_ts: Any, out_values: Any, out_warm: Any, out_mid_ts: Any, out_mid_x2: Any,
) -> int:  # fmt: skip
    """Samples at every multiple of `step` within the stream's span, each seeing exactly the events with
    ts_local <= its time, and the mid after every change (cursor[LAST_MID]: the last one written, NONE at
    first). Resumable: returns a status other than OK with
    `cursor` at the event to retry (or, after BOOK_ERROR, the next one); OK when the stream is done."""
    n = len(kinds)
    i, samples, n_mids, next_tick = cursor[AT], cursor[SAMPLES], cursor[MIDS_OUT], cursor[NEXT_TICK]
    while i < n:
        ts = stamps[i]
        if next_tick == NONE:
            next_tick = -(-ts // step) * step
        while next_tick < ts:
            row = out_values[samples]
            sample_into(ints, floats, book, mids, mids_r2, refs, refs_r2, trades, ofi, next_tick, row)
            out_ts[samples] = next_tick
            out_warm[samples] = is_warm(ints, book, next_tick)
            samples += 1
            next_tick += step
        status = OK
        if cursor[SKIP] == 1:
            cursor[SKIP] = 0
        else:
            row = fields[i]
            status = on_event(
                ints, floats, book, mids, mids_r2, refs, refs_r2, trades, ofi, kinds[i], ts,
                row[0], row[1], row[2], row[3], level_prices, level_sizes,
            )  # fmt: skip
        if status > BOOK_ERROR:
            cursor[AT], cursor[SAMPLES], cursor[MIDS_OUT], cursor[NEXT_TICK] = i, samples, n_mids, next_tick
            return status
        mid = mid_x2(ints, book)
        if mid != NONE and mid != cursor[LAST_MID]:
            out_mid_ts[n_mids], out_mid_x2[n_mids] = ts, mid
            cursor[LAST_MID] = mid
            n_mids += 1
        i += 1
        if status == BOOK_ERROR:
            cursor[AT], cursor[SAMPLES], cursor[MIDS_OUT], cursor[NEXT_TICK] = i, samples, n_mids, next_tick
            return status
    if n:
        last_ts = stamps[n - 1]
        while next_tick <= last_ts:
            row = out_values[samples]
            sample_into(ints, floats, book, mids, mids_r2, refs, refs_r2, trades, ofi, next_tick, row)
            out_ts[samples] = next_tick
            out_warm[samples] = is_warm(ints, book, next_tick)
            samples += 1
            next_tick += step
    cursor[AT], cursor[SAMPLES], cursor[MIDS_OUT], cursor[NEXT_TICK] = n, samples, n_mids, next_tick
    return OK


@jit
def apply_until(
    ints: Any, floats: Any, book: Any, mids: Any, mids_r2: Any, refs: Any, refs_r2: Any, trades: Any,
    ofi: Any, kinds: Any, stamps: Any, fields: Any, level_prices: Any, level_sizes: Any, cursor: Any,
    until: int,
) -> int:  # fmt: skip
    """Apply the events from cursor[AT] on with ts_local <= until, without sampling. Stops before each
    trade with AT_TRADE (the caller sees the trade with the mid before it, sets cursor[SKIP] = TRADE_SEEN
    and calls again); other statuses as in run_batch. OK: every event up to `until` is applied."""
    i, n = cursor[AT], len(kinds)
    while i < n and stamps[i] <= until:
        if kinds[i] == TRADE and cursor[SKIP] != TRADE_SEEN:
            cursor[AT] = i
            return AT_TRADE
        cursor[SKIP] = 0
        row = fields[i]
        status = on_event(
            ints, floats, book, mids, mids_r2, refs, refs_r2, trades, ofi, kinds[i], stamps[i],
            row[0], row[1], row[2], row[3], level_prices, level_sizes,
        )  # fmt: skip
        if status > BOOK_ERROR:
            cursor[AT] = i
            return status
        i += 1
        if status == BOOK_ERROR:
            cursor[AT] = i
            return status
    cursor[AT] = i
    return OK
