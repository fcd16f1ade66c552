"""Batch features for backfills: the live FeatureState's compiled kernel over a recorded event stream."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features import kernel
from flashmm_engine.features.event_columns import EventColumns, from_events, from_tables
from flashmm_engine.features.growth import BOOK_UPDATE, book_error_detail, make_room
from flashmm_engine.features.kernel_parts import BOOK_ERROR, OK
from flashmm_engine.features.layout import NONE
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState
from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.types import MarketEvent

log = logging.getLogger(__name__)

PROGRESS_EVERY_EVENTS = 1_000_000


@dataclass(frozen=True, slots=True)
class FeatureFrame:
    """Features sampled on a time grid, plus the mid path that labels are computed from."""

    names: list[str]
    market: str  # the instrument, e.g. binance-spot:ETHUSDT
    ts: NDArray[Any]  # int64 ns, sample times
    values: NDArray[Any]  # float64 (n, len(names))
    warm: NDArray[Any]  # bool (n,)
    mid_ts: NDArray[Any]  # int64 ns, times the mid changed
    mid_x2: NDArray[Any]  # int64, bid + ask in ticks after each change
    last_event_ts: int


def compute_features(
    events: Iterable[MarketEvent], spec: FeatureSpec, market: str, sample_ns: int | None = None
) -> FeatureFrame:
    """Features at every multiple of `sample_ns` (default: the spec's tick) within the stream's time span.

    A sample at t sees exactly the events with ts_local <= t, as the live engine would at its tick t.
    """
    columns = from_events(events, market, spec.reference_market)
    return compute_features_columns(columns, spec, market, sample_ns)


def compute_features_tables(
    tables: NormalizedTables, spec: FeatureSpec, sample_ns: int | None = None
) -> FeatureFrame:
    """`compute_features(iter_events(tables), ...)` for one market's tables, without an object per event."""
    return compute_features_columns(from_tables(tables), spec, tables.spec.symbol, sample_ns)


def compute_features_columns(
    columns: EventColumns, spec: FeatureSpec, market: str, sample_ns: int | None = None
) -> FeatureFrame:
    """The live FeatureState's compiled functions over a whole event stream, in one call (see kernel)."""
    run = FeatureRun(spec, market, sample_ns)
    run.feed(columns)
    return run.frame()


class FeatureRun:
    """Features of a stream that arrives in consecutive chunks (e.g. hourly segments): the same samples as
    one call over the whole stream, as long as no two chunks share an event time."""

    def __init__(self, spec: FeatureSpec, market: str, sample_ns: int | None = None) -> None:
        self.step = sample_ns or spec.tick_ns
        self.market = market
        self.state = FeatureState(spec, market)
        self.events = 0
        self._cursor = np.array([0, 0, 0, NONE, 0, NONE], dtype=np.int64)
        self._last_ts: int | None = None
        self._chunks: list[tuple[NDArray[Any], ...]] = []

    def feed(self, columns: EventColumns) -> None:
        n = len(columns)
        if not n:
            return
        if self._last_ts is not None and int(columns.ts[0]) <= self._last_ts:
            raise ValueError(
                f"a chunk starts at {int(columns.ts[0])}, not after the last one ({self._last_ts})"
            )
        cursor, step, state = self._cursor, self.step, self.state
        first = int(cursor[kernel.NEXT_TICK])
        if first == NONE:
            first = -(-int(columns.ts[0]) // step) * step
        samples = max((int(columns.ts[-1]) - first) // step + 1, 0)
        out_ts = np.zeros(samples, dtype=np.int64)
        values = np.zeros((samples, len(state.names)))
        warm = np.zeros(samples, dtype=np.bool_)
        mid_ts, mid_x2 = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        cursor[kernel.AT] = cursor[kernel.SAMPLES] = cursor[kernel.MIDS_OUT] = 0
        events = (columns.kinds, columns.ts, columns.fields, columns.level_prices, columns.level_sizes)
        outputs = (out_ts, values, warm, mid_ts, mid_x2)
        while True:
            status = kernel.run_batch(*state.kernel.arrays(), *events, step, cursor, *outputs)
            if status == OK:
                break
            if status == BOOK_ERROR:
                state.bad_input.record(BOOK_UPDATE, book_error_detail(state.kernel))
            elif not make_room(
                state.kernel, status, int(columns.ts[cursor[kernel.AT]]), state.bad_input.record
            ):
                cursor[kernel.SKIP] = 1
        n_mids = int(cursor[kernel.MIDS_OUT])
        self._chunks.append((out_ts, values, warm, mid_ts[:n_mids].copy(), mid_x2[:n_mids].copy()))
        self._last_ts = int(columns.ts[-1])
        self.events += n
        if self.events // PROGRESS_EVERY_EVENTS > (self.events - n) // PROGRESS_EVERY_EVENTS:
            log.info("features: %d events, %d samples", self.events, sum(len(c[0]) for c in self._chunks))

    def frame(self) -> FeatureFrame:
        names = self.state.names
        parts = list(zip(*self._chunks, strict=True)) if self._chunks else None
        if parts is None:
            empty = np.zeros(0, dtype=np.int64)
            return FeatureFrame(
                names, self.market, empty, np.zeros((0, len(names))), empty.astype(bool), empty, empty, 0
            )
        ts, values, warm, mid_ts, mid_x2 = (np.concatenate(part) for part in parts)
        return FeatureFrame(
            names=names,
            market=self.market,
            ts=ts,
            values=values,
            warm=warm,
            mid_ts=mid_ts,
            mid_x2=mid_x2,
            last_event_ts=self._last_ts or 0,
        )
