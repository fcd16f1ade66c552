"""Batch features for backfills: drives the live FeatureState over a recorded event stream."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState
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
    step = sample_ns or spec.tick_ns
    state = FeatureState(spec, market)
    ts_out: list[int] = []
    rows: list[NDArray[Any]] = []
    warm: list[bool] = []
    mid_ts: list[int] = []
    mid_x2: list[int] = []
    next_tick: int | None = None
    last_ts = 0
    for count, event in enumerate(events, 1):
        ts = event.ts_local
        if next_tick is None:
            next_tick = -(-ts // step) * step
        while next_tick < ts:
            ts_out.append(next_tick)
            rows.append(state.sample(next_tick))
            warm.append(state.is_warm(next_tick))
            next_tick += step
        state.on_event(event)
        last_ts = ts
        mid = state.mid_x2
        if mid is not None and (not mid_x2 or mid != mid_x2[-1]):
            mid_ts.append(ts)
            mid_x2.append(mid)
        if count % PROGRESS_EVERY_EVENTS == 0:
            log.info("features: %d events, %d samples", count, len(ts_out))
    while next_tick is not None and next_tick <= last_ts:
        ts_out.append(next_tick)
        rows.append(state.sample(next_tick))
        warm.append(state.is_warm(next_tick))
        next_tick += step
    names = state.names
    return FeatureFrame(
        names=names,
        market=market,
        ts=np.asarray(ts_out, dtype=np.int64),
        values=np.vstack(rows) if rows else np.zeros((0, len(names))),
        warm=np.asarray(warm, dtype=bool),
        mid_ts=np.asarray(mid_ts, dtype=np.int64),
        mid_x2=np.asarray(mid_x2, dtype=np.int64),
        last_event_ts=last_ts,
    )
