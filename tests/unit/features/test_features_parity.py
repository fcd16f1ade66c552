"""Batch features (backfills) equal incremental features (engine) on real data, to 1e-9."""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.batch import compute_features
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState
from flashmm_engine.marketdata.normalize import NormalizedTables, iter_events
from flashmm_engine.types import MarketEvent

PARITY_TOLERANCE = 1e-9


def engine_loop(
    events: list[MarketEvent], spec: FeatureSpec, market: str, sample_every_event: bool
) -> dict[int, tuple[NDArray[np.float64], bool]]:
    """What the live engine does: apply each event as it arrives; at each 200 ms tick, sample. With
    sample_every_event it also samples between events (every 10th, to keep the test fast), as a
    per-event consumer would; those extra reads must not change the tick samples."""
    state = FeatureState(spec, market)
    tick = spec.tick_ns
    out: dict[int, tuple[NDArray[np.float64], bool]] = {}
    next_tick = -(-events[0].ts_local // tick) * tick
    for index, event in enumerate(events):
        while next_tick < event.ts_local:
            out[next_tick] = (state.sample(next_tick), state.is_warm(next_tick))
            next_tick += tick
        state.on_event(event)
        if sample_every_event and index % 10 == 0:
            state.sample(event.ts_local)
    while next_tick <= events[-1].ts_local:
        out[next_tick] = (state.sample(next_tick), state.is_warm(next_tick))
        next_tick += tick
    return out


def assert_parity(tables: NormalizedTables, sample_every_event: bool) -> None:
    spec = FeatureSpec()
    market = tables.spec.symbol
    batch = compute_features(iter_events(tables), spec, market)
    live = engine_loop(list(iter_events(tables)), spec, market, sample_every_event)
    assert list(live) == batch.ts.tolist()
    live_values = np.vstack([values for values, _ in live.values()])
    assert np.abs(live_values - batch.values).max() <= PARITY_TOLERANCE
    assert [warm for _, warm in live.values()] == batch.warm.tolist()
    # the comparison covers real, moving values, not just zeros
    assert len(batch.ts) > 100
    assert (batch.values.std(axis=0) > 0).sum() > len(batch.names) // 2


def test_batch_equals_engine_loop_on_real_spot_data(spot_tables: NormalizedTables) -> None:
    assert_parity(spot_tables, sample_every_event=False)


def test_batch_equals_per_event_sampling_on_real_usdm_data(usdm_tables: NormalizedTables) -> None:
    assert_parity(usdm_tables, sample_every_event=True)


def test_features_are_informative_on_real_data(spot_tables: NormalizedTables) -> None:
    batch = compute_features(iter_events(spot_tables), FeatureSpec(), spot_tables.spec.symbol)
    warm = batch.values[batch.warm]
    assert np.isfinite(batch.values).all()
    varying = (warm.std(axis=0) > 0).sum()
    assert varying >= len(batch.names) - 2  # e.g. a spread that stayed at one tick may be constant


def test_cross_venue_basis_with_a_reference_feed(
    spot_tables: NormalizedTables, usdm_tables: NormalizedTables
) -> None:
    spec = FeatureSpec(reference_market=usdm_tables.spec.symbol)
    merged = list(heapq.merge(iter_events(spot_tables), iter_events(usdm_tables), key=lambda e: e.ts_local))
    batch = compute_features(iter(merged), spec, spot_tables.spec.symbol)
    live = engine_loop(merged, spec, spot_tables.spec.symbol, sample_every_event=False)
    assert np.abs(np.vstack([v for v, _ in live.values()]) - batch.values).max() <= PARITY_TOLERANCE
    basis = batch.values[:, batch.names.index("ref_basis_bps")]
    assert np.isfinite(basis).all()
    # spot trades below the futures on this capture: a basis of a few bps, never zero once both are known
    known = basis[batch.warm]
    assert len(known) and (np.abs(known) > 0).all() and (np.abs(known) < 100).all()
