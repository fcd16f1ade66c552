"""The feature feed fed with the tables' event columns (the compiled path) trades exactly as when fed
with event objects one by one: same decisions, fills, PnL, model-free quotes, calibration trades."""

from __future__ import annotations

from pathlib import Path

from flashmm_engine.backtest.feeds import TableEvents
from flashmm_engine.backtest.run import BacktestOptions, run_columns
from flashmm_engine.marketdata.normalize import iter_events
from flashmm_engine.types import TargetQuotes
from flashmm_engine.venues.captures import load_capture
from flashmm_engine.venues.sim.replay_columns import merge_tables

TIMING = {"seconds", "events_per_s"}


def test_column_feed_equals_object_feed(fixtures_dir: Path) -> None:
    tables = load_capture(fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz", "usdm")
    opts = BacktestOptions(strategy="mm", half_spread_ticks=1, order_latency="10", max_position=5)
    columns = merge_tables(tables)
    seen: dict[str, list[tuple[int, TargetQuotes]]] = {"objects": [], "columns": []}
    by_objects = run_columns(
        columns,
        tables.spec,
        opts,
        iter_events(tables),
        on_targets=lambda t, q: seen["objects"].append((t, q)),
    )
    by_columns = run_columns(
        columns,
        tables.spec,
        opts,
        TableEvents.of(tables),
        on_targets=lambda t, q: seen["columns"].append((t, q)),
    )
    assert {k: v for k, v in by_objects.items() if k not in TIMING} == {
        k: v for k, v in by_columns.items() if k not in TIMING
    }
    assert seen["objects"] == seen["columns"]
    assert len(seen["objects"]) > 100 and by_objects["decisions"] > 100
