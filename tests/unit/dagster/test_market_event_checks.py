"""market_events checks on the real fixture slice, then on copies broken one way each: the right check
fails, with the expectation, the observed value and the offending rows in its metadata."""

from pathlib import Path

import pandas as pd
import pytest

from flashmm_dagster.checks import market_events
from flashmm_engine.pipeline.store import read_table, write_empty_events

MAX_GAP_S = 10.0


def _rewrite(events_dir: Path, table: str, frame: pd.DataFrame) -> None:
    frame.to_parquet(events_dir / f"{table}.parquet", index=False)


def _failed(results: dict, expected: set[str]) -> None:
    failed = {name for name, r in results.items() if not r.passed}
    assert failed == expected


@pytest.mark.covers(
    "check:market_events.time_monotonic", "check:market_events.positive_sizes",
    "check:market_events.no_crossed_book", "check:market_events.sequence_continuity",
    "check:market_events.no_long_gap", "check:market_events.not_empty", data="fixture",
)  # fmt: skip
def test_real_slice_passes_every_check(events_dir: Path) -> None:
    results = market_events.run_checks(events_dir, MAX_GAP_S)
    assert set(results) == set(market_events.CHECKS)
    _failed(results, set())
    assert results["not_empty"].metadata["rows_checked"].value > 1000


def test_crossed_book_fails_no_crossed_book(events_dir: Path) -> None:
    top = read_table(events_dir, "top_of_book")
    row = len(top) // 2
    top.loc[row, "ask_price"] = top.loc[row, "bid_price"] - 3
    _rewrite(events_dir, "top_of_book", top)
    results = market_events.run_checks(events_dir, MAX_GAP_S)
    _failed(results, {"no_crossed_book"})
    meta = results["no_crossed_book"].metadata
    assert meta["expectation"].value["type"] == "expect_column_values_to_be_between"
    assert meta["expectation"].value["column"] == "spread_ticks"
    assert meta["observed"].value["unexpected_count"] == 1
    assert meta["observed"].value["partial_unexpected_list"] == [-3]
    assert str(int(top.loc[row, "bid_price"])) in meta["sample_rows"].value


def test_time_going_backwards_fails_time_monotonic(events_dir: Path) -> None:
    trades = read_table(events_dir, "trade")
    trades.loc[5, "ts_local"] = int(trades.loc[4, "ts_local"]) - 1_000_000_000
    _rewrite(events_dir, "trade", trades)
    result = market_events.run_checks(events_dir, MAX_GAP_S)["time_monotonic"]
    assert not result.passed
    assert result.metadata["failed_case"].value == "trade.ts_local"
    observed = result.metadata["observed"].value
    assert observed["unexpected_count"] >= 1 and min(observed["partial_unexpected_list"]) < 0
    assert "sample_rows" in result.metadata


def test_empty_partition_fails_not_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    write_empty_events("binance-spot-ethusdt", empty)
    results = market_events.run_checks(empty, MAX_GAP_S)
    assert not results["not_empty"].passed
    assert results["not_empty"].metadata["observed"].value == {"observed_value": 0}
    assert results["not_empty"].metadata["expectation"].value["min_value"] == 1


def test_negative_size_and_sequence_break_and_gap(events_dir: Path) -> None:
    trades = read_table(events_dir, "trade")
    trades.loc[3, "size"] = -2
    _rewrite(events_dir, "trade", trades)
    deltas = read_table(events_dir, "book_delta")
    distinct = deltas["seq"].drop_duplicates()
    later = distinct.index[len(distinct) // 2]
    deltas.loc[later:, "seq"] = deltas.loc[later:, "seq"] - 10_000_000
    _rewrite(events_dir, "book_delta", deltas)
    results = market_events.run_checks(events_dir, max_gap_s=0.001)
    assert not results["positive_sizes"].passed
    assert results["positive_sizes"].metadata["failed_case"].value == "trade.size"
    assert not results["sequence_continuity"].passed
    assert results["sequence_continuity"].metadata["failed_case"].value == "book_delta.seq"
    gap = results["no_long_gap"]
    assert not gap.passed and gap.metadata["max_gap_s"].value == pytest.approx(0.001)
