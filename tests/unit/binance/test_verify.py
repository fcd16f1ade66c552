"""Book rebuild on real slices matches every checkable bookTicker; bad input never corrupts the book."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from flashmm_engine.cli import cli
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.venues.binance.check import BookTickerCheck
from flashmm_engine.venues.binance.processor import FeedProcessor
from flashmm_engine.venues.binance.verify import verify_capture
from flashmm_engine.venues.captures import open_capture
from tests.binance_specs import eth_spec

SLICES = [("spot", "spot_ethusdt_slice", 100), ("usdm", "usdm_ethusdt_slice", 30)]


@pytest.mark.parametrize(("market", "name", "min_checks"), SLICES)
def test_verify_book_on_real_slices(fixtures_dir: Path, market: str, name: str, min_checks: int) -> None:
    result = CliRunner().invoke(
        cli, ["replay", "verify-book", str(fixtures_dir / "binance" / f"{name}.raw.gz")]
    )
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert set(report) == {
        "messages", "malformed", "resyncs", "book_ticker_checked", "book_ticker_matched", "match_rate",
        "venue", "market", "symbol", "spec",
    }  # fmt: skip
    assert (report["market"], report["symbol"], report["spec"]["source"]) == (market, "ETHUSDT", "inferred")
    assert report["match_rate"] == 1.0
    assert report["book_ticker_checked"] >= min_checks
    assert report["resyncs"] == 0 and report["malformed"] == 0


def _processor() -> tuple[FeedProcessor, BookTickerCheck]:
    book = OrderBook()
    check = BookTickerCheck(book)
    return FeedProcessor("spot", eth_spec("spot"), "ETHUSDT", check, book=book), check


def _lines(fixtures_dir: Path) -> list[bytes]:
    return gzip.decompress((fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz").read_bytes()).splitlines()


def test_bad_level_in_a_diff_forces_resync_and_never_lands(fixtures_dir: Path) -> None:
    processor, _ = _processor()
    lines = _lines(fixtures_dir)
    for line in lines[:200]:
        processor.on_line(line)
    assert processor.sync.synced
    last = processor.sync.last_update_id
    bad = (
        b'1 {"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":%d,"u":%d,'
        b'"b":[["0.00","1.0"]],"a":[]}}' % (last + 1, last + 1)
    )
    processor.on_line(bad)
    assert processor.bad_input.counts["bad_level"] == 1
    assert 0 not in processor.book.bids
    assert processor.needs_snapshot and processor.resyncs == 1


def test_crossed_book_is_counted_and_resynced(fixtures_dir: Path) -> None:
    processor, _ = _processor()
    for line in _lines(fixtures_dir)[:200]:
        processor.on_line(line)
    best_ask = processor.book.best_ask()
    assert best_ask is not None
    last = processor.sync.last_update_id
    price = f"{best_ask[0] // 100 + 1}.00".encode()
    crossing = (
        b'1 {"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":%d,"u":%d,'
        b'"b":[["%s","1.0"]],"a":[]}}' % (last + 1, last + 1, price)
    )
    processor.on_line(crossing)
    assert processor.crossed == 1
    assert processor.needs_snapshot and processor.resyncs == 1


def test_check_counts_a_mismatch(fixtures_dir: Path) -> None:
    lines = _lines(fixtures_dir)[:3000]
    messages = [orjson.loads(line.split(b" ", 1)[1]) for line in lines]
    snapshot_at = next(i for i, m in enumerate(messages) if "lastUpdateId" in m)
    diff_ids = {m["data"]["u"] for m in messages if "depth" in m.get("stream", "")}
    target = next(
        i
        for i, m in enumerate(messages)
        if i > snapshot_at + 50 and m.get("stream", "").endswith("@bookTicker") and m["data"]["u"] in diff_ids
    )
    lines[target] = lines[target].replace(b'"B":"', b'"B":"1', 1)  # the ticker's bid size now disagrees
    processor, check = _processor()
    for line in lines:
        processor.on_line(line)
    assert check.counts.mismatched == 1
    assert check.counts.matched == check.counts.checked - 1 > 10


def test_verify_capture_function(fixtures_dir: Path) -> None:
    report = verify_capture(*open_capture(fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"))
    assert report["messages"] == 5000
    assert report["book_ticker_matched"] == report["book_ticker_checked"] >= 30
