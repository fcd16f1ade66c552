"""The compiled feature state's own mechanics: the table path equals the event path, its arrays grow and
re-centre without changing what they hold, and window sums match a brute-force count."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from flashmm_engine.features.batch import FeatureRun, compute_features, compute_features_tables
from flashmm_engine.features.event_columns import EventColumns, from_tables
from flashmm_engine.features.layout import MAX_BOOK_SPAN, MIN_HISTORY, TRADE_STARTS, TRADE_SUMS
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState
from flashmm_engine.marketdata.normalize import NormalizedTables, iter_events
from flashmm_engine.types import NS_PER_MS, BookDelta, BookSnapshot, Side, Trade

MARKET = "test:X"


def test_tables_path_equals_event_path(spot_tables: NormalizedTables, usdm_tables: NormalizedTables) -> None:
    for tables in (spot_tables, usdm_tables):
        spec = FeatureSpec()
        from_tables = compute_features_tables(tables, spec)
        from_events = compute_features(iter_events(tables), spec, tables.spec.symbol)
        assert len(from_tables.ts) > 100
        assert np.array_equal(from_tables.ts, from_events.ts)
        assert np.array_equal(from_tables.values, from_events.values)
        assert np.array_equal(from_tables.warm, from_events.warm)
        assert np.array_equal(from_tables.mid_ts, from_events.mid_ts)
        assert np.array_equal(from_tables.mid_x2, from_events.mid_x2)
        assert from_tables.last_event_ts == from_events.last_event_ts


def test_book_recentres_and_refuses_a_level_too_far_away() -> None:
    state = FeatureState(FeatureSpec(), MARKET)
    state.on_event(BookSnapshot(0, 0, MARKET, 1, ((1_000, 5), (990, 2)), ((1_010, 7),)))
    state.on_event(BookDelta(1, 1, MARKET, Side.SELL, 400_000, 3, 2))  # far above: the book grows
    state.on_event(BookDelta(2, 2, MARKET, Side.BUY, 1, 4, 3))  # far below the first levels
    assert state.depth.depth(1, 5) == [(1_000, 5), (990, 2), (1, 4)]
    assert state.depth.depth(-1, 5) == [(1_010, 7), (400_000, 3)]
    state.on_event(BookDelta(3, 3, MARKET, Side.SELL, 1 + MAX_BOOK_SPAN, 1, 4))
    assert state.bad_input.counts["feature_book_update"] == 1
    assert state.depth.depth(-1, 5) == [(1_010, 7), (400_000, 3)]
    state.on_event(BookDelta(4, 4, MARKET, Side.BUY, 1_000, 0, 5))
    assert state.depth.best_bid() == (990, 2)
    assert state.mid_x2 == 990 + 1_010


def test_trade_windows_match_a_brute_force_count_across_growth() -> None:
    spec = FeatureSpec()
    state = FeatureState(spec, MARKET)
    state.on_event(BookSnapshot(0, 0, MARKET, 1, ((1_000, 5),), ((1_001, 5),)))
    count = 4 * MIN_HISTORY
    trades = [(k * 3 * NS_PER_MS, 1 + k % 5, Side.BUY if k % 3 else Side.SELL) for k in range(1, count)]
    for k, (ts, size, side) in enumerate(trades):
        state.on_event(Trade(ts, ts, MARKET, 1_000, size, side, k))
        if k % 500 == 0:
            state.sample(ts)
    now = trades[-1][0]
    state.sample(now)
    ints = state.kernel.ints
    assert len(state.kernel.trades) > MIN_HISTORY  # the ring grew (the 30 s window holds every trade)
    sums_at = ints[TRADE_SUMS]
    for w, width_ms in enumerate(spec.flow_windows_ms):
        inside = [(size, side) for ts, size, side in trades if ts > now - width_ms * NS_PER_MS]
        buy = sum(size for size, side in inside if side is Side.BUY)
        sell = sum(size for size, side in inside if side is Side.SELL)
        expected = [len(inside), buy, sell, 1_000 * (buy + sell)]
        assert ints[sums_at + 4 * w : sums_at + 4 * w + 4].tolist() == expected
        assert ints[ints[TRADE_STARTS] + w] >= 0


def test_a_run_fed_in_chunks_equals_one_call(usdm_tables: NormalizedTables) -> None:
    spec = FeatureSpec()
    columns = from_tables(usdm_tables)
    whole = compute_features_tables(usdm_tables, spec)
    ts = columns.ts
    cuts = [int(np.searchsorted(ts, ts[len(ts) * k // 3], side="left")) for k in (1, 2)]
    run = FeatureRun(spec, usdm_tables.spec.symbol)
    for lo, hi in zip([0, *cuts], [*cuts, len(ts)], strict=True):
        run.feed(EventColumns(columns.kinds[lo:hi], ts[lo:hi], columns.fields[lo:hi], *_levels(columns)))
    chunked = run.frame()
    assert np.array_equal(chunked.ts, whole.ts) and np.array_equal(chunked.values, whole.values)
    assert np.array_equal(chunked.warm, whole.warm)
    assert np.array_equal(chunked.mid_ts, whole.mid_ts) and np.array_equal(chunked.mid_x2, whole.mid_x2)
    with pytest.raises(ValueError, match="not after the last one"):
        run.feed(EventColumns(columns.kinds[:5], ts[:5], columns.fields[:5], *_levels(columns)))


def _levels(columns: EventColumns) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    return columns.level_prices, columns.level_sizes
