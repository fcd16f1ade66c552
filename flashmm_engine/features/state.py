"""The live feature state: one market's compiled feature state machine (features/kernel.py), one event and
one tick at a time.

The live engine calls `on_event` per event and `sample` every tick; batch backfills (features/batch.py) run
the same compiled functions over a recorded event stream, so live and batch features agree by
construction. `sample(t)` only ever reads state built from events with ts_local <= t: there is no lookahead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features import kernel
from flashmm_engine.features.growth import BOOK_UPDATE, book_error_detail, make_room
from flashmm_engine.features.kernel_parts import BOOK_ERROR, OK, book_best, book_depth, ewm_vol, mid_x2
from flashmm_engine.features.layout import (
    BOOK_SYNCED,
    FIRST_TS,
    LAST_BOOK_TS,
    LAST_SAMPLE_TS,
    NONE,
    NONFINITE,
    REF_MID_X2,
    TOB_ASK,
    TOB_ASK_SIZE,
    TOB_BID,
    TOB_BID_SIZE,
    KernelState,
    new_state,
)
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import BookDelta, MarketEvent, TopOfBook, Trade

if TYPE_CHECKING:
    from flashmm_engine.features.event_columns import EventColumns

log = logging.getLogger(__name__)

NO_LEVELS = np.zeros(0, dtype=np.int64)


class SampleOrderError(ValueError):
    """Features were sampled at a time earlier than a previous sample."""


class FeatureState:
    def __init__(self, spec: FeatureSpec, market: str) -> None:
        self.spec = spec
        self.market = market
        self.names = spec.names()
        self.kernel = new_state(spec)
        self.depth = KernelBook(self.kernel)
        self.ewm = [KernelEwm(self.kernel, j) for j in range(len(spec.ewm_half_lives_ms))]
        self.bad_input = BadInputCounter(log)

    # --- events ---

    def on_event(self, event: MarketEvent) -> None:
        if event.market != self.market:
            if isinstance(event, TopOfBook) and event.market == self.spec.reference_market:
                self._apply(kernel.REF_TOP, event.ts_local, event.bid_price, 0, event.ask_price, 0)
            return
        if isinstance(event, BookDelta):
            self._apply(kernel.DELTA, event.ts_local, int(event.side), event.price, event.size, 0)
        elif isinstance(event, TopOfBook):
            t = event
            self._apply(kernel.TOP, t.ts_local, t.bid_price, t.bid_size, t.ask_price, t.ask_size)
        elif isinstance(event, Trade):
            self._apply(kernel.TRADE, event.ts_local, event.price, event.size, int(event.aggressor_side), 0)
        else:
            levels = [*event.bids, *event.asks]
            prices = np.fromiter((p for p, _ in levels), dtype=np.int64, count=len(levels))
            sizes = np.fromiter((s for _, s in levels), dtype=np.int64, count=len(levels))
            counts = len(event.bids), len(event.asks)
            self._apply(kernel.SNAPSHOT, event.ts_local, 0, *counts, 0, prices, sizes)

    def _apply(
        self,
        kind: int,
        ts: int,
        a: int,
        b: int,
        c: int,
        d: int,
        prices: NDArray[np.int64] = NO_LEVELS,
        sizes: NDArray[np.int64] = NO_LEVELS,
    ) -> None:
        while True:
            status = kernel.on_event(*self.kernel.arrays(), kind, ts, a, b, c, d, prices, sizes)
            if status == OK:
                return
            if status == BOOK_ERROR:
                self.bad_input.record(BOOK_UPDATE, book_error_detail(self.kernel))
                return
            if not make_room(self.kernel, status, ts, self.bad_input.record):
                return

    def apply_columns(self, stream: ColumnStream, until: int, on_trade: Callable[[int], None]) -> None:
        """Apply the stream's events up to ts_local `until` in one compiled call; before the k-th trade
        of the stream is applied, `on_trade(k)` runs (it may read this state: the book before the trade)."""
        cursor, columns = stream.cursor, stream.columns
        events = (columns.kinds, columns.ts, columns.fields, columns.level_prices, columns.level_sizes)
        while True:
            status = kernel.apply_until(*self.kernel.arrays(), *events, cursor, until)
            if status == OK:
                return
            if status == kernel.AT_TRADE:
                on_trade(stream.trades_seen)
                stream.trades_seen += 1
                cursor[kernel.SKIP] = kernel.TRADE_SEEN
            elif status == BOOK_ERROR:
                self.bad_input.record(BOOK_UPDATE, book_error_detail(self.kernel))
            elif not make_room(
                self.kernel, status, int(columns.ts[cursor[kernel.AT]]), self.bad_input.record
            ):
                cursor[kernel.AT] += 1  # refused: the event is done

    def _record(self, kind: str, detail: str) -> None:
        self.bad_input.record(kind, detail)

    # --- reads ---

    @property
    def tob(self) -> tuple[int, int, int, int] | None:
        """The venue's last top of book: bid, bid size, ask, ask size."""
        ints = self.kernel.ints
        if ints[TOB_BID] == NONE:
            return None
        return int(ints[TOB_BID]), int(ints[TOB_BID_SIZE]), int(ints[TOB_ASK]), int(ints[TOB_ASK_SIZE])

    @property
    def mid_x2(self) -> int | None:
        """Mid as bid + ask in ticks (exact): the venue's top of book when seen, else the depth book's."""
        return _optional(mid_x2(self.kernel.ints, self.kernel.book))

    @property
    def book_synced(self) -> bool:
        return bool(self.kernel.ints[BOOK_SYNCED])

    @property
    def first_ts(self) -> int | None:
        return _optional(self.kernel.ints[FIRST_TS])

    @property
    def last_book_ts(self) -> int | None:
        return _optional(self.kernel.ints[LAST_BOOK_TS])

    @property
    def ref_mid_x2(self) -> int | None:
        return _optional(self.kernel.ints[REF_MID_X2])

    @property
    def last_sample_ts(self) -> int:
        return int(self.kernel.ints[LAST_SAMPLE_TS])

    @property
    def nonfinite_count(self) -> int:
        return int(self.kernel.ints[NONFINITE])

    def is_warm(self, ts: int) -> bool:
        return bool(kernel.is_warm(self.kernel.ints, self.kernel.book, ts))

    # --- sampling ---

    def sample(self, ts: int) -> NDArray[Any]:
        """Features as of time ts (events with ts_local <= ts). Always finite; zeros before any data."""
        if ts < self.last_sample_ts:
            raise SampleOrderError(f"sample at {ts} after a sample at {self.last_sample_ts}")
        out = np.empty(len(self.names))
        kernel.sample_into(*self.kernel.arrays(), ts, out)
        return out


class ColumnStream:
    """Event columns being applied to a FeatureState in time order (see `FeatureState.apply_columns`)."""

    def __init__(self, columns: EventColumns) -> None:
        self.columns = columns
        self.cursor = np.array([0, 0, 0, NONE, 0, NONE], dtype=np.int64)
        self.trades_seen = 0

    @property
    def next_ts(self) -> int | None:
        at = int(self.cursor[kernel.AT])
        return int(self.columns.ts[at]) if at < len(self.columns) else None


class KernelBook:
    """The feature state's depth book, read as an order book (best levels, best first)."""

    def __init__(self, state: KernelState) -> None:
        self._state = state

    def depth(self, side: int, k: int) -> list[tuple[int, int]]:
        out = np.empty((k, 2), dtype=np.int64)
        count = book_depth(self._state.ints, self._state.book, side, out)
        return [(int(p), int(s)) for p, s in out[:count]]

    def _best(self, side: int) -> tuple[int, int] | None:
        price, size = book_best(self._state.ints, self._state.book, side)
        return None if price == NONE else (int(price), int(size))

    def best_bid(self) -> tuple[int, int] | None:
        return self._best(1)

    def best_ask(self) -> tuple[int, int] | None:
        return self._best(-1)

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]


class KernelEwm:
    """One EWM volatility of the feature state."""

    def __init__(self, state: KernelState, index: int) -> None:
        self._state, self._index = state, index

    def vol_per_sqrt_s(self, ts: int) -> float:
        return float(ewm_vol(self._state.ints, self._state.floats, self._index, ts))


def _optional(value: Any) -> int | None:
    return None if value == NONE else int(value)
