"""The batch path gives exactly the per-message (live) results: tables, counters, checks, bad input too."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flashmm_engine.errors import FlashmmError
from flashmm_engine.marketdata.columns import ColumnSink
from flashmm_engine.venues.binance.markets import BinanceMarket
from flashmm_engine.venues.binance.processor import FeedProcessor
from flashmm_engine.venues.binance.source import feed_capture
from flashmm_engine.venues.binance.verify import verify_capture
from flashmm_engine.venues.captures import open_capture
from tests.binance_specs import eth_spec

TABLES = ("book_delta", "book_snapshot", "trade", "top_of_book")
DEPTH = {"spot": b"ethusdt@depth@100ms", "usdm": b"ethusdt@depth@0ms"}
FIRST_SIZE = re.compile(rb'","(\d+\.\d+)"')


def finer_size(line: bytes) -> bytes:
    """The line with one more decimal on its first size: finer than the lot of either market."""
    changed = FIRST_SIZE.sub(rb'","\g<1>1"', line, count=1)
    assert changed != line
    return changed


def run(path: Path, market: BinanceMarket, batch: bool) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    sink = ColumnSink(eth_spec(market).symbol)
    processor = FeedProcessor(market, eth_spec(market), "ETHUSDT", sink)
    feed_capture(processor, path, batch)
    tables = {name: getattr(sink, name)() for name in TABLES}
    counters = {
        "messages": processor.messages,
        "bad_input": dict(processor.bad_input.counts),
        "resyncs": processor.resyncs,
        "gaps": processor.sync.gaps,
        "stale_diffs": processor.sync.stale_diffs,
        "crossed": processor.crossed,
    }
    return tables, counters


def assert_same_results(path: Path, market: BinanceMarket) -> dict[str, Any]:
    batch_tables, batch_counters = run(path, market, batch=True)
    live_tables, live_counters = run(path, market, batch=False)
    assert batch_counters == live_counters
    for name in TABLES:
        pd.testing.assert_frame_equal(batch_tables[name], live_tables[name])
    assert verified(path, market, batch=True) == verified(path, market, batch=False)
    return batch_counters


def verified(path: Path, market: BinanceMarket, batch: bool) -> dict[str, Any] | str:
    """The verify-book report, or the error it ends with (a capture whose book never checks out)."""
    source, info = open_capture(path, market)
    try:
        return verify_capture(source, info, batch=batch)
    except FlashmmError as exc:
        return f"{type(exc).__name__}: {exc}"


def slice_lines(fixtures_dir: Path, market: str) -> list[bytes]:
    path = fixtures_dir / "binance" / f"{market}_ethusdt_slice.raw.gz"
    return gzip.decompress(path.read_bytes()).splitlines()


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "capture.raw.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return path


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_real_slices_give_identical_results(fixtures_dir: Path, market: BinanceMarket) -> None:
    path = fixtures_dir / "binance" / f"{market}_ethusdt_slice.raw.gz"
    counters = assert_same_results(path, market)
    assert counters["bad_input"] == {} and counters["resyncs"] == 0


def _variants(lines: list[bytes], market: BinanceMarket) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(valid lines in other layouts, malformed non-diff lines, malformed diffs), made from real lines."""
    snapshot = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    diffs = [line for line in lines[snapshot:] if DEPTH[market] in line]
    ticker = next(line for line in lines if b"@bookTicker" in line)
    trade = next(line for line in lines if b"@trade" in line)
    stamp, _, diff = diffs[3].partition(b" ")
    bids_start, asks_start = diff.index(b'"b":['), diff.index(b',"a":[')
    valid = [
        diffs[1].replace(b'{"stream":', b'{"stream": '),  # whitespace: not the exact layout
        diffs[2].replace(b'"b":', b'"\\u0062":', 1),  # an escaped key is still "b"
        stamp + b" " + diff[:bids_start] + b'"b":[]' + diff[asks_start:],  # no bids
        stamp + b" " + diff[: asks_start + 1] + b'"a":[]}}',  # no asks
        diffs[5][:-2] + b'},"extra":1}',  # a field after the data
        diffs[6] + b"\r",
        ticker.replace(b'"s":"ETHUSDT",', b"", 1).replace(b'"u":', b'"s":"ETHUSDT","u":', 1),  # key order
        b"12345 " + trade.partition(b" ")[2],  # a stamp of another width
    ]
    garbage = [
        ticker.replace(b'"u":', b'"u":0', 1),  # a leading zero is not JSON
        ticker.replace(b'"b":"', b'"b":"1e', 1),
        trade.replace(b'"m":true', b'"m":1').replace(b'"m":false', b'"m":0'),
        trade.replace(b'"s":"ETHUSDT"', b'"s":"BTCUSDT"'),
        ticker.replace(b"@bookTicker", b"@kline_1m", 1),
        ticker.replace(b'"a":"', b'"a":"1.2.', 1),
        b"not-a-stamp " + trade.partition(b" ")[2],
        b"99999999999999999999 " + trade.partition(b" ")[2],  # beyond int64 nanoseconds
        re.sub(rb'"u":\d+', b'"u":18446744073709551615', ticker, count=1),  # beyond int64
        re.sub(rb'"T":\d+', b'"T":99999999999999999', trade, count=1),  # ms beyond int64 nanoseconds
        b"",
    ]
    broken = [
        finer_size(diffs[-40]),
        diffs[-30].replace(b'"],["', b'","1"],["', 1),  # a level with three fields
        diffs[-20].replace(b'[["', b'[["-', 1),
    ]
    return valid, garbage, broken


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_malformed_and_unusual_lines_give_identical_results(
    fixtures_dir: Path, tmp_path: Path, market: BinanceMarket
) -> None:
    lines = slice_lines(fixtures_dir, market)
    valid, garbage, broken = _variants(lines, market)
    snapshot = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    mixed = lines[: snapshot + 20]
    for index, extra in enumerate(valid + garbage):
        mixed += [extra, *lines[snapshot + 20 + 30 * index : snapshot + 50 + 30 * index]]
    rest = lines[snapshot + 20 + 30 * len(valid + garbage) :]
    mixed += rest[:100] + broken + rest[100:]
    counters = assert_same_results(write(tmp_path, mixed), market)
    assert sum(counters["bad_input"].values()) == len(garbage) - 1 + len(broken)  # the empty line is no line
    assert counters["resyncs"] >= 1


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_gaps_and_duplicates_give_identical_results(
    fixtures_dir: Path, tmp_path: Path, market: BinanceMarket
) -> None:
    lines = slice_lines(fixtures_dir, market)
    snapshot = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    diff_at = [i for i, line in enumerate(lines) if i > snapshot and DEPTH[market] in line]
    duplicated, dropped = diff_at[10], diff_at[60]
    changed = [
        *lines[: duplicated + 1],
        lines[duplicated],
        *lines[duplicated + 1 : dropped],
        *lines[dropped + 1 :],
    ]
    # a second snapshot after the gap: the book resyncs and later diffs land again
    changed.insert(len(changed) - 300, lines[snapshot])
    counters = assert_same_results(write(tmp_path, changed), market)
    assert counters["gaps"] == 1 and counters["stale_diffs"] >= 1


def test_spot_sizes_finer_than_the_lot_are_rejected_not_rounded(fixtures_dir: Path, tmp_path: Path) -> None:
    lines = slice_lines(fixtures_dir, "spot")
    snapshot = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    at = next(i for i in range(snapshot + 100, len(lines)) if b"@depth" in lines[i])
    lines[at] = finer_size(lines[at])
    counters = assert_same_results(write(tmp_path, lines), "spot")
    assert counters["bad_input"] == {"bad_field": 1} and counters["resyncs"] == 1
